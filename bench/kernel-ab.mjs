// A/B of kernel builds (the single-thread experiments of bench/experiments.md): the same bundled
// package, one instance per .wasm, timed interleaved on one workload, and checked bit for bit.
//   npm run build && node bench/kernel-ab.mjs base=/tmp/base/gc.simd.wasm new=build/gc.simd.wasm \
//     [--workload gc-out-last|gc-out-first|adam-gc|adam-gc-out-last|adam-gc-out-last-tfjs|adam|adam-gc-update|rule-<Optimizer>[-gc[-last]]]
//     [--rounds 31] [--batch-ms 20]   (rule-RMSprop-gc: RMSprop with GC "gradient", out-first; rule-RMSprop-gc-last: out-last)
//   node bench/kernel-ab.mjs base=… new=… --check   (outputs of every variant compared bit for bit)
// Never part of npm test or npm run bench.
import { readFileSync } from "node:fs";
import os from "node:os";
import { resnet18Parameters } from "../examples/resnet18.js";
import { loadLimits, seededValues } from "./peers.mjs";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const variants = args.filter((a) => /^[\w-]+=/.test(a)).map((a) => {
  const [name, path] = a.split("=");
  return { name, path };
});
if (variants.length < 1) throw new Error("usage: kernel-ab.mjs name=path.wasm [name=path.wasm ...] [--workload w] [--check]");
const workload = flag("--workload", "gc-out-last");
const rounds = Number(flag("--rounds", 31));
const batchMs = Number(flag("--batch-ms", 20));
const product = (shape) => shape.reduce((a, b) => a * b, 1);

for (const v of variants) {
  v.pkg = await import(`../dist/index.js?instance=${v.name}`);
  await v.pkg.init({ source: readFileSync(v.path), simd: !v.path.includes("scalar") });
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
};

/** The cases of a workload for one package instance: { run, cleanup }. */
function makeCase(pkg, name) {
  const gc = name.startsWith("gc-");
  const layout = name.startsWith("rule-") ? (name.endsWith("-last") ? "out-last" : "out-first")
    : name.endsWith("out-first") || name === "adam-gc" || name === "adam" || name === "adam-gc-update" ? "out-first" : "out-last";
  if (gc) {
    const narrow = name.startsWith("gc-narrow-") ? Number(name.slice(10)) : 0;
    const shapes = narrow ? [[Math.round(2 ** 20 / narrow), narrow]] : resnet18Parameters(layout).filter((p) => p.shape.length > 1).map((p) => p.shape);
    const tensors = shapes.map((s, i) => pkg.Tensor.from(seededValues(product(s), i + 1, 1, 0.1), s));
    return { values: tensors.reduce((n, t) => n + t.size, 0), run: () => pkg.centralizeAll(tensors, { layout }), cleanup: () => tensors.forEach((t) => t.dispose()), limit: "scalePass", shapes };
  }
  const mode = name === "adam" || (name.startsWith("rule-") && !/-gc(-last)?$/.test(name)) ? false : name.includes("update") ? "update" : "gradient";
  const shapes = resnet18Parameters(layout).map((p) => p.shape);
  const params = shapes.map((shape, i) => ({
    value: pkg.Tensor.from(seededValues(product(shape), i + 1, 0.1), shape),
    grad: pkg.Tensor.from(seededValues(product(shape), i + 101, 0.01), shape),
  }));
  // "-tfjs": tf.train.adam's formula, as the TF.js kernels engine steps it
  const formula = name.endsWith("-tfjs") ? { formula: "tfjs", eps: 1e-7 } : {};
  // "rule-<Optimizer>[-gc[-last]]": any exported optimizer with its defaults (lr 1e-3), GC off or "gradient" (out-last with -last)
  const rule = name.startsWith("rule-") ? name.slice(5).replace(/-last$/, "").replace(/-gc$/, "") : "Adam";
  const opt = new pkg[rule](params, { lr: 1e-3, gc: mode, layout, ...formula });
  return {
    values: shapes.reduce((n, s) => n + product(s), 0),
    run: () => opt.step(),
    cleanup: () => {
      opt.dispose();
      for (const p of params) p.value.dispose(), p.grad.dispose();
    },
    limit: "adamPass",
    shapes,
  };
}

async function time() {
  const cases = variants.map((v) => ({ name: v.name, ...makeCase(v.pkg, workload) }));
  const limits = loadLimits(new URL(flag("--limits", "../build/limits.wasm"), import.meta.url));
  const shapes = cases[0].shapes;
  if (cases[0].limit === "scalePass") {
    const ptrs = shapes.map((s) => limits.alloc(product(s)));
    cases.push({ name: "limit: SIMD x·1 pass", run: () => ptrs.forEach((p, i) => limits.exports.scalePass(p, product(shapes[i]), 1)) });
  } else {
    const ptrs = shapes.map((s) => [0, 1, 2, 3].map(() => limits.alloc(product(s))));
    cases.push({ name: "limit: w,g,m,v pass", run: () => ptrs.forEach(([w, g, m, v], i) => limits.exports.adamPass(w, g, m, v, product(shapes[i]), 1)) });
  }
  const batch = new Map();
  for (const c of cases) {
    c.run();
    const start = performance.now();
    let calls = 0;
    do {
      c.run();
      calls++;
    } while (performance.now() - start < batchMs / 2);
    batch.set(c.name, Math.max(1, Math.round(batchMs / ((performance.now() - start) / calls))));
  }
  const samples = new Map(cases.map((c) => [c.name, []]));
  const cpuSamples = new Map(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    // Rotate the order every round so no variant always runs right after another.
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + r) % cases.length];
      const n = batch.get(c.name);
      const cpu = process.cpuUsage();
      const start = performance.now();
      for (let i = 0; i < n; i++) c.run();
      samples.get(c.name).push((performance.now() - start) / n);
      const used = process.cpuUsage(cpu);
      cpuSamples.get(c.name).push((used.user + used.system) / 1000 / n);
    }
  }
  console.log(`${workload}: ${rounds} rounds, load ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  report(cases, samples, "wall");
  report(cases, cpuSamples, "cpu");
  for (const c of cases) c.cleanup?.();
}

/** Medians, quartiles and per-round ratios of one kind of sample (wall-clock or CPU time). */
function report(cases, samples, kind) {
  const base = samples.get(cases[0].name);
  const limit = samples.get(cases.at(-1).name);
  console.log(` ${kind} time:`);
  for (const c of cases) {
    const s = samples.get(c.name);
    const ratio = s.map((x, r) => x / base[r]);
    const vsLimit = s.map((x, r) => x / limit[r]);
    console.log(
      `  ${c.name.padEnd(22)} median ${quantile(s, 0.5).toFixed(3)} ms  [p25 ${quantile(s, 0.25).toFixed(3)}, p75 ${quantile(s, 0.75).toFixed(3)}, min ${quantile(s, 0).toFixed(3)}]` +
        `  ÷${cases[0].name} per round: median ${quantile(ratio, 0.5).toFixed(3)} [${quantile(ratio, 0.25).toFixed(3)}, ${quantile(ratio, 0.75).toFixed(3)}]` +
        `  ÷limit ${quantile(vsLimit, 0.5).toFixed(2)}`,
    );
  }
}

// ---- bit-for-bit check: every variant's outputs on the same inputs must be equal ----

function lcg(seed) {
  let a = seed >>> 0;
  return () => ((a = (Math.imul(a, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Inputs with hard cases: large offsets, mixed scales, zeros, a NaN or Inf now and then. */
function values(n, rand, kind) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rand() - 0.5;
    out[i] = kind === 0 ? u : kind === 1 ? 1000 + u : kind === 2 ? u * 10 ** Math.floor(rand() * 12 - 6) : rand() < 0.01 ? 0 : u * 3;
  }
  return out;
}

const checkShapes = [
  [3, 5], [17, 9], [16, 8], [33, 7], [2, 4096], [5, 4100], [3, 9000], [40, 1], [1, 13], [31, 3, 3, 17], [3, 3, 64, 64],
  [7, 1000], [130, 12], [4, 8193], [1, 1], [65, 33], [3, 3, 3, 64], [9, 2, 2, 511], [3, 3, 128, 128], [2000, 77], [600, 300],
  [9000, 13], [20000, 3], [3, 3, 40, 4100],
];

function gcOutputs(pkg, seed) {
  const rand = lcg(seed);
  const out = [];
  for (const layout of ["out-last", "out-first", { unitAxis: 1 }]) {
    for (let kind = 0; kind < 4; kind++) {
      const arrays = checkShapes.filter((s) => layout.unitAxis === undefined || s.length > 2).map((s) => ({ grad: values(product(s), rand, kind), shape: s }));
      // one at a time, then all together (centralizeMany's loop)
      const single = arrays.map((a) => ({ grad: a.grad.slice(), shape: a.shape }));
      for (const a of single) pkg.centralize(a.grad, a.shape, { layout });
      pkg.centralizeAll(arrays, { layout });
      for (const a of single) out.push(a.grad);
      for (const a of arrays) out.push(a.grad);
    }
  }
  return out;
}

const rules = [
  ["Adam", {}], ["Adam", { amsgrad: true }], ["Adam", { weightDecay: 0.01 }], ["Adam", { formula: "tfjs" }], ["AdamW", { weightDecay: 0.1 }],
  ["SGD", { momentum: 0.9 }], ["SGD", { momentum: 0.9, nesterov: true, weightDecay: 0.01 }], ["RAdam", {}], ["NAdam", {}], ["Adamax", {}],
  ["Adagrad", {}], ["Adadelta", {}], ["RMSprop", { centered: true, momentum: 0.5 }], ["Lion", { weightDecay: 0.1 }],
  // each rule's common-step loop with its other branches (L2, formula, options)
  ["SGD", { momentum: 0.9, dampening: 0.3 }], ["NAdam", { weightDecay: 0.01 }], ["Adamax", { weightDecay: 0.01, formula: "tfjs" }],
  ["Adagrad", { weightDecay: 0.01, formula: "tfjs" }], ["Adadelta", { weightDecay: 0.01, formula: "tfjs" }], ["RMSprop", {}],
  ["RMSprop", { weightDecay: 0.01, formula: "tfjs", centered: true, momentum: 0.5 }], ["RMSprop", { formula: "tfjs" }], ["RMSprop", { momentum: 0.9 }],
];

function optimizerOutputs(pkg, seed) {
  const rand = lcg(seed);
  const out = [];
  for (const [rule, extra] of rules) {
    for (const gc of [false, "gradient", "update"]) {
      for (const layout of ["out-last", "out-first", { unitAxis: 1 }]) {
        const shapes = checkShapes.filter((s) => product(s) < 100000 && (layout.unitAxis === undefined || s.length > 2)).concat([[7], [700, 150]]);
        const params = shapes.map((shape) => ({
          value: pkg.Tensor.from(values(product(shape), rand, 0), shape),
          grad: pkg.Tensor.from(values(product(shape), rand, 3), shape),
        }));
        const opt = new pkg[rule](params, { lr: 1e-2, gc, layout, ...extra });
        for (let t = 0; t < 3; t++) {
          for (const p of params) p.grad.data.set(values(p.grad.size, rand, t === 1 ? 1 : 3));
          opt.step();
        }
        for (const p of params) out.push(p.value.data.slice());
        const state = opt.stateDict();
        for (const s of Object.values(state.state ?? {})) for (const b of Object.values(s)) if (b instanceof Float32Array) out.push(b.slice());
        opt.dispose();
        for (const p of params) p.value.dispose(), p.grad.dispose();
      }
    }
  }
  return out;
}

function check() {
  const only = flag("--only", "");
  const results = variants.map((v) => [...(only === "optim" ? [] : gcOutputs(v.pkg, 7)), ...(only === "gc" ? [] : optimizerOutputs(v.pkg, 11))]);
  let arrays = 0;
  let floats = 0;
  for (let k = 1; k < results.length; k++) {
    const a = results[0];
    const b = results[k];
    if (a.length !== b.length) throw new Error(`${variants[k].name}: ${b.length} outputs, ${variants[0].name}: ${a.length}`);
    for (let i = 0; i < a.length; i++) {
      const x = new Uint32Array(a[i].buffer, a[i].byteOffset, a[i].length);
      const y = new Uint32Array(b[i].buffer, b[i].byteOffset, b[i].length);
      if (x.length !== y.length) throw new Error(`output ${i}: lengths differ`);
      for (let j = 0; j < x.length; j++) {
        if (x[j] !== y[j]) throw new Error(`${variants[k].name} differs from ${variants[0].name}: output ${i} element ${j}: ${a[i][j]} vs ${b[i][j]}`);
      }
      arrays++;
      floats += x.length;
    }
  }
  console.log(`bit-identical: ${variants.map((v) => v.name).join(", ")} (${arrays} arrays, ${floats} floats per variant compared)`);
}

if (args.includes("--check")) check();
else await time();
