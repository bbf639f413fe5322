// npm run bench [-- --quick]: GC and optimizer steps against plain JavaScript, TF.js and the
// memory limit. Prints a table and writes bench/results.md. Never part of npm test.
import { writeFileSync } from "node:fs";
import os from "node:os";
import { runAllocationBench } from "./allocation-workloads.mjs";
import { runGcBench } from "./gc-workloads.mjs";
import { runRuleBench } from "./optimizer-rules.mjs";
import { runOptimizerBench } from "./optimizer-workloads.mjs";
import { runPerCallBench } from "./per-call.mjs";
import { loadTwoThreadLimits } from "./two-thread-limits.mjs";
import { loadLimits, loadTf } from "./peers.mjs";
import { formatResults } from "./report.mjs";
import { runTfjsBench } from "./tfjs-workloads.mjs";

const quick = process.argv.includes("--quick");
const options = quick ? { rounds: 5, batchMs: 5 } : { rounds: 15, batchMs: 20 };

// Two independent instances of the bundled package: one per kernel build.
const simd = await import("../dist/index.js");
const scalar = await import("../dist/index.js?instance=scalar");
await simd.init();
await scalar.init({ simd: false });
if (simd.backend() !== "simd" || scalar.backend() !== "scalar") {
  throw new Error(`expected two instances (simd, scalar), got ${simd.backend()}, ${scalar.backend()}: is dist/index.js a single bundle?`);
}
const tfs = { cpu: await loadTf("cpu"), wasm: await loadTf("wasm") };
const limits = loadLimits(new URL("../build/limits.wasm", import.meta.url));
const memoryBytes = () => {
  const probe = new simd.Tensor([1]);
  const bytes = probe.data.buffer.byteLength;
  probe.dispose();
  return bytes;
};

// A third instance on the SIMD + threads build (issue 13): init({ threads: 2 }), for the GC
// workloads and the optimizer step (threads 2 vs 1, and vs the one-thread memory passes).
const threads = await import("../dist/index.js?instance=threads");
await threads.init({ threads: 2 });
if (threads.backend() !== "simd-threads") console.warn(`threads: 2 fell back to ${threads.backend()} (no workers or shared memory here)`);

// The limits on two threads (shared memory, one worker), beside the threaded rows.
const limits2 = threads.backend() === "simd-threads" ? await loadTwoThreadLimits(new URL("../build/limits.threads.wasm", import.meta.url)) : undefined;

const context = { pkgs: { simd, scalar }, threads, tfs, limits, limits2, memoryBytes };
console.log(`benchmark${quick ? " (--quick)" : ""}: ${options.rounds} interleaved rounds per workload, medians`);
// Threads on against off for one small call, on instances of their own (bench/per-call.mjs),
// first: after the other sections (TF.js: a heap of gigabytes) a --quick run timed the same call
// at 0.6–4 µs.
const perCall = threads.backend() === "simd-threads" ? await runPerCallBench(options) : undefined;
// The rules next: they have no TF.js case, and after TF.js's cpu steps over ResNet-18 (seconds
// each, gigabytes of temporaries) every one of them ran up to 2× slower, a collection before each
// rule notwithstanding.
const rules = await runRuleBench(context, options);
const gc = await runGcBench(context, options);
const optimizers = await runOptimizerBench(context, options);
const tfjs = await runTfjsBench(context, options);
const allocation = await runAllocationBench(context, options);
limits2?.close();

// Accuracy, as in the tests: rows of 1000 + N(0, 1) against float64.
function largeOffsetError() {
  const rows = 64, cols = 4608;
  const g = new Float32Array(rows * cols);
  let a = 12345;
  for (let i = 0; i < g.length; i += 2) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    const u = a / 2 ** 32 + 1e-12;
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    const r = Math.sqrt(-2 * Math.log(u));
    g[i] = 1000 + r * Math.cos(2 * Math.PI * (a / 2 ** 32));
    g[i + 1] = 1000 + r * Math.sin(2 * Math.PI * (a / 2 ** 32));
  }
  const input = g.slice();
  simd.centralize(g, [rows, cols]);
  let worst = 0;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += input[r * cols + c];
    const mean = sum / cols;
    for (let c = 0; c < cols; c++) worst = Math.max(worst, Math.abs(g[r * cols + c] - (input[r * cols + c] - mean)));
  }
  return worst;
}
const accuracy = largeOffsetError();

const tf = tfs.cpu;
const machine = {
  cpu: os.cpus()[0]?.model ?? "unknown",
  cores: os.cpus().length,
  node: process.version,
  v8: process.versions.v8,
  tfjs: tf.version.tfjs,
  date: new Date().toISOString().slice(0, 10),
  quick,
};
const markdown = formatResults({ gc, optimizers, rules, tfjs, allocation, perCall, machine, accuracy });
console.log(markdown);
if (!quick) writeFileSync(new URL("./results.md", import.meta.url), markdown);
