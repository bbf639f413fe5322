// Browser harness: a module script of page.html; ?build=simd|scalar. Leaves the suite's result
// in window.__suiteResult (a Promise).
import * as gc from "gradient-centralization";
import { runSuite } from "./suite.mjs";

const build = new URL(location.href).searchParams.get("build");
window.__suiteResult = fetch("./fixtures.json")
  .then((response) => response.json())
  .then((fixtures) => runSuite(gc, fixtures, build));
