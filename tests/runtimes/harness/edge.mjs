// Vercel edge harness: bundled to a script and evaluated in an EdgeVM, it leaves the suite's
// result in globalThis.__suiteResult (a Promise). The build and the loader ("init" or "initSync")
// come from globalThis.__suiteBuild and globalThis.__suiteLoader.
import * as gc from "gradient-centralization";
import fixtures from "./fixtures.json";
import { runSuite } from "./suite.mjs";

globalThis.__suiteResult = runSuite(gc, fixtures, globalThis.__suiteBuild, globalThis.__suiteLoader);
