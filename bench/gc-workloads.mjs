// The GC benchmark: each workload centralized by this package (SIMD and scalar builds, Tensor and
// Float32Array paths), a plain JavaScript loop, TF.js (cpu and wasm backends), and the memory limit.
import { resnet18Parameters } from "../examples/resnet18.js";
import { timeGrouped } from "./harness.mjs";
import { plainCentralize, seededValues } from "./peers.mjs";

const product = (shape) => shape.reduce((a, b) => a * b, 1);

/** Workloads: a name, a layout and the shapes of the gradients centralized together. */
export function gcWorkloads() {
  const resnet = (layout) => resnet18Parameters(layout).filter((p) => p.shape.length > 1).map((p) => p.shape);
  return [
    { name: "dense [1024, 1024]", layout: "out-first", shapes: [[1024, 1024]] },
    { name: "conv [256, 256, 3, 3]", layout: "out-first", shapes: [[256, 256, 3, 3]] },
    { name: "ResNet-18, 21 weights, out-first", layout: "out-first", shapes: resnet("out-first") },
    { name: "ResNet-18, 21 weights, out-last", layout: "out-last", shapes: resnet("out-last") },
    { name: "MLP [128,784] [64,128] [10,64]", layout: "out-first", shapes: [[128, 784], [64, 128], [10, 64]] },
    // threads on ÷ off for this call: bench/per-call.mjs
    { name: "one [10, 64] (per-call cost)", layout: "out-first", shapes: [[10, 64]] },
    // 524,288 values: the smallest call the threads build splits (src/threads/dispatch.ts); its
    // "threads 2" row against "simd" says whether that threshold is right on this machine.
    { name: "one [512, 1024] (threads: the split threshold)", layout: "out-first", shapes: [[512, 1024]] },
  ];
}

/** The 2-D view GC works on (as src/layout.ts). */
function matrix(shape, layout) {
  return layout === "out-first"
    ? { rows: shape[0], cols: product(shape.slice(1)), unitsAreRows: true }
    : { rows: product(shape.slice(0, -1)), cols: shape.at(-1), unitsAreRows: false };
}


/** The cases of one workload, each `{ name, run, enter? }`, and a function freeing what they hold. */
function gcCases(workload, { pkgs, threads, tfs, limits, limits2 }) {
  const { layout, shapes } = workload;
  const arrays = shapes.map((s, i) => seededValues(product(s), i + 1, 1, 0.1));
  const cases = [];
  const cleanups = [];
  // "threads 2": the SIMD + threads build with init({ threads: 2 }) (calls under its split
  // threshold, as one [10, 64], stay on the calling thread: that row is the cost of threads on).
  for (const [build, pkg] of Object.entries(threads ? { ...pkgs, "threads 2": threads } : pkgs)) {
    const tensors = shapes.map((s, i) => pkg.Tensor.from(arrays[i], s));
    const copies = arrays.map((a, i) => ({ grad: a.slice(), shape: shapes[i] }));
    cleanups.push(() => tensors.forEach((t) => t.dispose()));
    cases.push(
      tensors.length === 1
        ? { name: `${build} Tensor`, run: () => pkg.centralize(tensors[0], { layout }) }
        : { name: `${build} Tensor`, run: () => pkg.centralizeAll(tensors, { layout }) },
      copies.length === 1
        ? { name: `${build} Float32Array`, run: () => pkg.centralize(copies[0].grad, copies[0].shape, { layout }) }
        : { name: `${build} Float32Array`, run: () => pkg.centralizeAll(copies, { layout }) },
    );
  }
  const plain = arrays.map((a, i) => ({ g: a.slice(), ...matrix(shapes[i], layout) }));
  cases.push({ name: "plain JS", run: () => plain.forEach((p) => plainCentralize(p.g, p.rows, p.cols, p.unitsAreRows)) });
  for (const [name, tf] of Object.entries(tfs)) {
    let inputs;
    const enter = async () => {
      await tf.setBackend(name);
      inputs ??= arrays.map((a, i) => tf.tensor(a, shapes[i]));
    };
    const axes = shapes.map((s) => (layout === "out-first" ? s.map((_, k) => k).slice(1) : s.map((_, k) => k).slice(0, -1)));
    cases.push({
      name: `TF.js ${name}`,
      group: "tfjs",
      enter,
      run: () => inputs.forEach((g, i) => tf.tidy(() => tf.sub(g, tf.mean(g, axes[i], true))).dispose()),
    });
    cleanups.push(async () => {
      await tf.setBackend(name);
      inputs?.forEach((t) => t.dispose());
    });
  }
  const ptrs = arrays.map((a) => limits.alloc(a.length));
  const dest = arrays.map((a) => new Float32Array(a.length));
  cases.push(
    { name: "limit: SIMD x·1 pass", run: () => ptrs.forEach((p, i) => limits.exports.scalePass(p, arrays[i].length, 1)) },
    { name: "limit: Float32Array.set", run: () => dest.forEach((d, i) => d.set(arrays[i])) },
  );
  // from the threads build's split threshold on: what the machine gives two threads this run
  if (limits2 && arrays.reduce((n, a) => n + a.length, 0) >= 1 << 19) {
    const items = arrays.map((a) => [limits2.alloc(a.length), a.length]);
    cases.push({ name: "limit: SIMD x·1 pass, 2 threads", run: () => limits2.scalePass(items) });
  }
  return { cases, cleanup: async () => { for (const c of cleanups) await c(); } };
}

/**
 * Runs every workload; returns rows { workload, name, ms, values } in run order, and the size of
 * the SIMD package's linear memory after each workload (its peak: memory never shrinks).
 */
export async function runGcBench(context, options) {
  const rows = [];
  const memory = new Map();
  for (const workload of gcWorkloads()) {
    const { cases, cleanup } = gcCases(workload, context);
    const times = await timeGrouped(cases, options);
    const values = workload.shapes.reduce((n, s) => n + product(s), 0);
    for (const [name, ms] of times) rows.push({ workload: workload.name, name, ms, values });
    memory.set(workload.name, context.memoryBytes());
    await cleanup();
    process.stdout.write(".");
  }
  process.stdout.write("\n");
  return { rows, memory };
}
