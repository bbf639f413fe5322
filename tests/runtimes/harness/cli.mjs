// ESM harness for Node, Deno and Bun: `<runtime> cli.mjs <label> <simd|scalar>` from the
// temporary project where the packed package is installed.
import * as gc from "gradient-centralization";
import fixtures from "./fixtures.json" with { type: "json" };
import { report, runSuite } from "./suite.mjs";

const [label, build] = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
const version = globalThis.Deno
  ? `deno ${globalThis.Deno.version.deno}`
  : globalThis.Bun
    ? `bun ${globalThis.Bun.version}`
    : `node ${process.versions.node}`;
const result = await runSuite(gc, fixtures, build);
console.log(report(label, build, version, import.meta.resolve("gradient-centralization"), result));
