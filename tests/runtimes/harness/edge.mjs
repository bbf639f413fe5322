// Vercel edge harness: bundled to a script and evaluated in an EdgeVM, it leaves the suite's
// result in globalThis.__suiteResult (a Promise). The build comes from globalThis.__suiteBuild.
import * as gc from "gradient-centralization";
import fixtures from "./fixtures.json";
import { runSuite } from "./suite.mjs";

globalThis.__suiteResult = runSuite(gc, fixtures, globalThis.__suiteBuild);
