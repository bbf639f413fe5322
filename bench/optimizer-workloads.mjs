// Optimizer steps over all 62 ResNet-18 parameters (11.7M values): this package's SGD-momentum and
// Adam with and without GC, Lookahead(Adam) and Ranger steps (a synchronization every k-th),
// clipGradNorm over the 62 gradients, TF.js's momentum and adam applyGradients (cpu and wasm backends), a
// plain JavaScript Adam, and the limit: one SIMD pass reading w, g, m, v and writing w, m, v.
import { resnet18Parameters } from "../examples/resnet18.js";
import { timeGrouped } from "./harness.mjs";
import { plainAdamStep, seededValues as values } from "./peers.mjs";

const product = (shape) => shape.reduce((a, b) => a * b, 1);


/** The package's optimizer `Kind` over fresh Tensors for every parameter. */
function packageCase(pkg, name, Kind, options, shapes) {
  const params = shapes.map((shape, i) => ({
    value: pkg.Tensor.from(values(product(shape), i + 1, 0.1), shape),
    grad: pkg.Tensor.from(values(product(shape), i + 101, 0.01), shape),
  }));
  const opt = new Kind(params, options);
  return {
    case: { name, run: () => opt.step() },
    cleanup: () => {
      opt.dispose();
      for (const p of params) p.value.dispose(), p.grad.dispose();
    },
  };
}

/** A Lookahead (or Ranger) made by `make` over fresh Tensors for every parameter. */
function lookaheadCase(pkg, name, make, shapes) {
  const params = shapes.map((shape, i) => ({
    value: pkg.Tensor.from(values(product(shape), i + 1, 0.1), shape),
    grad: pkg.Tensor.from(values(product(shape), i + 101, 0.01), shape),
  }));
  const opt = make(params);
  return {
    case: { name, run: () => opt.step() },
    cleanup: () => {
      opt.dispose();
      for (const p of params) p.value.dispose(), p.grad.dispose();
    },
  };
}

/** clipGradNorm over every gradient of the model (one wasm call; clips each time at maxNorm 1). */
function clipCase(pkg, name, shapes) {
  const grads = shapes.map((shape, i) => pkg.Tensor.from(values(product(shape), i + 101, 0.01), shape));
  return {
    case: { name, run: () => pkg.clipGradNorm(grads, 1) },
    cleanup: () => grads.forEach((g) => g.dispose()),
  };
}

function tfCase(tf, backendName, kind, shapes) {
  let vars, grads, opt;
  return {
    case: {
      name: `TF.js ${backendName} ${kind}`,
      group: "tfjs",
      enter: async () => {
        await tf.setBackend(backendName);
        if (vars) return;
        vars = shapes.map((s, i) => tf.variable(tf.tensor(values(product(s), i + 1, 0.1), s), true, `w${i}_${backendName}_${kind}`));
        grads = Object.fromEntries(shapes.map((s, i) => [vars[i].name, tf.tensor(values(product(s), i + 101, 0.01), s)]));
        opt = kind === "adam" ? tf.train.adam(1e-3) : tf.train.momentum(1e-2, 0.9);
      },
      run: () => opt.applyGradients(grads),
    },
    cleanup: async () => {
      if (!vars) return;
      await tf.setBackend(backendName);
      opt.dispose();
      vars.forEach((v) => v.dispose());
      Object.values(grads).forEach((g) => g.dispose());
    },
  };
}

/** Runs the optimizer workloads; returns { rows: [{ name, ms }], values }. */
export async function runOptimizerBench({ pkgs, threads, tfs, limits, limits2 }, options) {
  const shapes = resnet18Parameters("out-first").map((p) => p.shape);
  const total = shapes.reduce((n, s) => n + product(s), 0);
  const { simd, scalar } = pkgs;
  const parts = [
    packageCase(simd, "simd SGD momentum", simd.SGD, { lr: 1e-2, momentum: 0.9, gc: false }, shapes),
    packageCase(simd, "simd SGD momentum + GC", simd.SGD, { lr: 1e-2, momentum: 0.9, gc: "gradient" }, shapes),
    packageCase(simd, "simd Adam", simd.Adam, { lr: 1e-3, gc: false }, shapes),
    packageCase(simd, "simd Adam + GC (gradient)", simd.Adam, { lr: 1e-3, gc: "gradient" }, shapes),
    packageCase(simd, "simd Adam + GC (update)", simd.Adam, { lr: 1e-3, gc: "update" }, shapes),
    packageCase(scalar, "scalar Adam + GC (gradient)", scalar.Adam, { lr: 1e-3, gc: "gradient" }, shapes),
    lookaheadCase(simd, "simd Lookahead(Adam + GC), k 5", (p) => new simd.Lookahead(new simd.Adam(p, { lr: 1e-3, gc: "gradient" }), { k: 5 }), shapes),
    lookaheadCase(simd, "simd Ranger (RAdam + GC, k 6)", (p) => new simd.Ranger(p, { lr: 1e-3 }), shapes),
    clipCase(simd, "simd clipGradNorm, all 62 gradients", shapes),
  ];
  if (threads) {
    parts.push(
      packageCase(threads, "threads 2 Adam + GC (gradient)", threads.Adam, { lr: 1e-3, gc: "gradient" }, shapes),
      packageCase(threads, "threads 2 Adam + GC (update)", threads.Adam, { lr: 1e-3, gc: "update" }, shapes),
      packageCase(threads, "threads 2 SGD momentum + GC", threads.SGD, { lr: 1e-2, momentum: 0.9, gc: "gradient" }, shapes),
      clipCase(threads, "threads 2 clipGradNorm, all 62 gradients", shapes),
    );
  }
  for (const [name, tf] of Object.entries(tfs)) parts.push(tfCase(tf, name, "momentum", shapes), tfCase(tf, name, "adam", shapes));

  const plain = shapes.map((s, i) => ({
    w: values(product(s), i + 1, 0.1),
    g: values(product(s), i + 101, 0.01),
    m: new Float32Array(product(s)),
    v: new Float32Array(product(s)),
  }));
  let t = 0;
  const ptrs = shapes.map((s) => [0, 1, 2, 3].map(() => limits.alloc(product(s))));
  const cases = [
    ...parts.map((p) => p.case),
    { name: "plain JS Adam", run: () => { t++; for (const p of plain) plainAdamStep(p, t); } },
    {
      name: "limit: SIMD pass over w, g, m, v",
      run: () => ptrs.forEach(([w, g, m, v], i) => limits.exports.adamPass(w, g, m, v, product(shapes[i]), 1)),
    },
  ];
  if (limits2) {
    const items = shapes.map((s) => [...[0, 1, 2, 3].map(() => limits2.alloc(product(s))), product(s)]);
    cases.push({ name: "limit: SIMD pass over w, g, m, v, 2 threads", run: () => limits2.adamPass(items) });
  }
  const times = await timeGrouped(cases, { ...options, batchMs: Math.max(options.batchMs, 1) });
  for (const p of parts) await p.cleanup();
  return { rows: [...times].map(([name, ms]) => ({ name, ms })), values: total };
}
