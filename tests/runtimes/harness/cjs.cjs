// CommonJS harness for Node: `node cjs.cjs <simd|scalar> [label]`; the package comes from require().
const gc = require("gradient-centralization");
const fixtures = require("./fixtures.json");

const [build, label = "node-cjs"] = process.argv.slice(2);
import("./suite.mjs").then(async ({ report, runSuite }) => {
  const result = await runSuite(gc, fixtures, build);
  console.log(report(label, build, `node ${process.versions.node}`, require.resolve("gradient-centralization"), result));
});
