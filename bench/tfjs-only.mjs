// node --expose-gc bench/tfjs-only.mjs [--quick] [--backends=wasm,cpu]: only the TF.js optimizer workloads of
// npm run bench (bench/tfjs-workloads.mjs), printed as tables; bench/results.md is not written.
// Needs npm run build first (--expose-gc: a full collection before each timed group, as npm run bench does).
import { loadTf } from "./peers.mjs";
import { BASELINE, KERNELS, MODELS, runTfjsBench } from "./tfjs-workloads.mjs";

const quick = process.argv.includes("--quick");
const options = quick ? { rounds: 5, batchMs: 5 } : { rounds: 15, batchMs: 20 };
const backends = (process.argv.find((a) => a.startsWith("--backends="))?.slice(11) ?? "cpu,wasm").split(",");
const simd = await import("../dist/index.js");
await simd.init();
const tfs = {};
for (const name of backends) tfs[name] = await loadTf(name);
const started = performance.now();
const { optimizer, wholeStep, failed } = await runTfjsBench({ pkgs: { simd }, tfs }, options, MODELS);
const fmt = (ms) => (ms === undefined ? "—" : ms >= 10 ? ms.toFixed(2) : ms.toPrecision(3));
for (const { model, parameters, backend, rows, phases } of optimizer) {
  const base = rows.find((r) => r.name === BASELINE)?.ms;
  console.log(`\n${model} (${parameters.toLocaleString("en")} parameters), ${backend}: optimizer ms per step`);
  for (const { name, ms } of rows) console.log(`  ${name.padEnd(46)} ${fmt(ms).padStart(9)}  ${(base / ms).toFixed(2)}×`);
  const sum = phases["in, storage"] + phases.kernel + phases["out, engine"];
  console.log(`  phases: ${Object.entries(phases).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}; storage + kernel + engine ${fmt(sum)}; engine ${fmt(rows.find((r) => r.name === KERNELS)?.ms)}`);
}
for (const { backend, rows } of wholeStep) console.log(`\nwhole step, digits MLP, ${backend}: ${rows.map((r) => `${r.name} ${fmt(r.ms)}`).join("; ")}`);
if (failed.length) console.log("failed:", failed);
console.log(`\n${options.rounds} interleaved rounds, medians; ${((performance.now() - started) / 1000).toFixed(0)} s`);
