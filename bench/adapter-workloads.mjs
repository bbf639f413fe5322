// The TF.js adapter's added cost per step: tf.train.adam's applyGradients on the digits MLP 64-64-10
// (TF.js layout: dense [in, out]), plain and wrapped by withGradientCentralization, per backend.
import { withGradientCentralization } from "../dist/tfjs.js";
import { timeInterleaved } from "./harness.mjs";
import { seededValues } from "./peers.mjs";

const SHAPES = [[64, 64], [64], [64, 10], [10]]; // the demo's MLP 64-64-10
const product = (shape) => shape.reduce((a, b) => a * b, 1);

function adamCase(tf, backendName, wrapped) {
  let grads, opt, vars;
  const label = wrapped ? "with GC" : "plain";
  return {
    case: {
      name: `TF.js ${backendName} adam, ${label}`,
      enter: async () => {
        await tf.setBackend(backendName);
        if (opt) return;
        vars = SHAPES.map((s, i) => tf.variable(tf.tensor(seededValues(product(s), i + 1, 0.1), s), true, `mlp${i}_${backendName}_${label}`));
        grads = Object.fromEntries(SHAPES.map((s, i) => [vars[i].name, tf.tensor(seededValues(product(s), i + 101, 0.01, 0.002), s)]));
        opt = wrapped ? withGradientCentralization(tf.train.adam(1e-3)) : tf.train.adam(1e-3);
      },
      run: () => opt.applyGradients(grads),
    },
    cleanup: async () => {
      await tf.setBackend(backendName);
      opt.dispose();
      vars.forEach((v) => v.dispose());
      Object.values(grads).forEach((g) => g.dispose());
    },
  };
}

/** Runs the adapter workloads; returns [{ backend, plain, wrapped }] in ms per step. */
export async function runAdapterBench({ tfs }, options) {
  const parts = Object.entries(tfs).flatMap(([name, tf]) => [adamCase(tf, name, false), adamCase(tf, name, true)]);
  const times = await timeInterleaved(parts.map((p) => p.case), options);
  for (const p of parts) await p.cleanup();
  return Object.keys(tfs).map((name) => ({
    backend: name,
    plain: times.get(`TF.js ${name} adam, plain`),
    wrapped: times.get(`TF.js ${name} adam, with GC`),
  }));
}
