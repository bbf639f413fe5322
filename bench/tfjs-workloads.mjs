// TF.js optimizers on TF.js's cpu and wasm backends: tf.train.adam without GC, the same Adam wrapped
// by withGradientCentralization (GC as TF.js ops), and this package's train.adam with GC on the
// gradient on each engine ("kernels": the fused kernels over linear memory; "tfjs": TF.js ops).
// Workloads, in TF.js layout (dense [in, out], conv [kh, kw, in, out]):
// - optimizer time (applyGradients on fixed gradients) over the digits MLP 64-64-10, an MLP
//   784-1024-256-10 (1,068,810 parameters) and the ResNet-18 parameter set (11,689,512);
// - the digits MLP's whole training step, as model.fit takes it: forward, backward
//   (tf.variableGrads) and the optimizer's step, on a batch of 32 real digits;
// - where the kernels engine's time goes: the same copies it makes (gradients in, weights out),
//   timed alone, next to this package's Adam + GC kernel (tf.train.adam's formula, as the engine
//   runs it) over the same shapes in linear memory.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import * as tfjsEntry from "../dist/tfjs.js";
import { parseDigits } from "../examples/digits/data.js";
import { resnet18Parameters } from "../examples/resnet18.js";
import { timeGrouped } from "./harness.mjs";
import { seededValues } from "./peers.mjs";

const { withGradientCentralization, train } = tfjsEntry;
const product = (shape) => shape.reduce((a, b) => a * b, 1);
const LR = 1e-3;
const [BETA1, BETA2, EPSILON] = [0.9, 0.999, 1e-7]; // tf.train.adam's defaults (ε: the cpu and wasm backends')

/** Dense layers [in, out] and biases [out] of an MLP with these layer sizes. */
const mlpShapes = (sizes) => sizes.slice(1).flatMap((out, l) => [[sizes[l], out], [out]]);

/** The models whose optimizer step is timed: `{ name, shapes }`. */
export const MODELS = [
  { name: "digits MLP 64-64-10", shapes: mlpShapes([64, 64, 10]) },
  { name: "MLP 784-1024-256-10", shapes: mlpShapes([784, 1024, 256, 10]) },
  { name: "ResNet-18 parameter set", shapes: resnet18Parameters("out-last").map((p) => p.shape) },
];
export const parameterCount = (shapes) => shapes.reduce((n, s) => n + product(s), 0);

/** The optimizers compared: tf.train.adam, the adapter, and train.adam on each engine (when this build has train). */
export const OPTIMIZERS = [
  { name: "tf.train.adam (no GC)", make: (tf) => tf.train.adam(LR, BETA1, BETA2, EPSILON) },
  { name: "withGradientCentralization(tf.train.adam)", make: (tf) => withGradientCentralization(tf.train.adam(LR, BETA1, BETA2, EPSILON)) },
  { name: 'train.adam, gc "gradient", engine "kernels"', make: () => train.adam(LR, BETA1, BETA2, EPSILON, { gc: "gradient", engine: "kernels" }), needsTrain: true },
  { name: 'train.adam, gc "gradient", engine "tfjs"', make: () => train.adam(LR, BETA1, BETA2, EPSILON, { gc: "gradient", engine: "tfjs" }), needsTrain: true },
];
export const BASELINE = OPTIMIZERS[0].name;
export const KERNELS = OPTIMIZERS[2].name;
const available = OPTIMIZERS.filter((o) => !o.needsTrain || typeof train?.adam === "function");

let variableSets = 0;
/**
 * Variables of `shapes` on the current backend (the same initial values each time; unique names:
 * TF.js requires them) and `gradients` naming them: the fixed gradient tensors `grads` if given,
 * else new ones (disposed with the variables). Every optimizer gets its own variables: one that
 * finds its variables changed by another reads them again (the kernels engine's master weights).
 */
function variablesAndGradients(tf, shapes, grads) {
  const tag = ++variableSets;
  const variables = shapes.map((s, i) => tf.variable(tf.tensor(seededValues(product(s), i + 1, 0.1), s), true, `bench${tag}/w${i}`));
  const own = grads === undefined;
  const tensors = grads ?? shapes.map((s, i) => tf.tensor(seededValues(product(s), i + 101, 0.01, 0.002), s));
  const gradients = Object.fromEntries(variables.map((v, i) => [v.name, tensors[i]]));
  return { variables, gradients, dispose: () => tf.dispose(own ? [...variables, ...tensors] : variables) };
}

/**
 * A Float32Array over a tensor's own storage in TF.js's backend, without copying: the cpu backend's
 * values array, or the wasm backend's heap at the tensor's offset (for reading only: see below).
 */
function storageView(tf, tensor) {
  const backend = tf.backend();
  if (tf.getBackend() === "cpu") return backend.data.get(tensor.dataId).values;
  const { memoryOffset } = backend.dataIdMap.get(tensor.dataId);
  return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, tensor.size);
}

/**
 * New weights into a variable the way the kernels engine writes them (src/tfjs/engines/weights.ts)
 * when no other tensor shares its data: on the cpu backend the variable's array is replaced by a
 * copy; on the wasm backend the values are copied into its heap in place, its tensor id disposed
 * and registered again first (XNNPACK's operators keep packed copies of weights by tensor id).
 */
function writeLikeEngine(tf, variable, values) {
  if (tf.getBackend() === "cpu") {
    tf.backend().data.get(variable.dataId).values = values.slice();
    return;
  }
  const backend = tf.backend();
  const { id, memoryOffset } = backend.dataIdMap.get(variable.dataId);
  backend.wasm.tfjs.disposeData(id);
  backend.wasm.tfjs.registerTensor(id, variable.size, memoryOffset);
  new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, variable.size).set(values);
}

/**
 * The kernels engine's phases over `shapes`, each timed on its own: the gradients read into linear
 * memory (by dataSync, or from the backend's storage as the engine reads them); this package's
 * Adam + GC (out-last) over Tensors in linear memory; the new weights written into the TF.js
 * variables (a new tensor holding a copy, assigned; or the engine's way, writeLikeEngine).
 */
function phaseCases(tf, pkg, backendName, shapes, { variables, gradients }) {
  const grads = Object.values(gradients);
  const params = shapes.map((shape, i) => ({
    value: pkg.Tensor.from(seededValues(product(shape), i + 1, 0.1), shape),
    grad: pkg.Tensor.from(seededValues(product(shape), i + 101, 0.01, 0.002), shape),
  }));
  const adam = new pkg.Adam(params, { lr: LR, betas: [BETA1, BETA2], eps: EPSILON, gc: "gradient", layout: "out-last", formula: "tfjs" });
  const phase = (name) => `${backendName}: ${name}`;
  return {
    cases: [
      { name: phase("in, dataSync"), run: () => grads.forEach((g, i) => params[i].grad.data.set(g.dataSync())) },
      { name: phase("in, storage"), run: () => grads.forEach((g, i) => params[i].grad.data.set(storageView(tf, g))) },
      { name: phase("kernel"), run: () => adam.step() },
      {
        name: phase("out, assign"),
        run: () =>
          variables.forEach((v, i) => {
            const fresh = tf.tensor(params[i].value.data.slice(), v.shape);
            v.assign(fresh);
            fresh.dispose();
          }),
      },
      { name: phase("out, engine"), run: () => variables.forEach((v, i) => writeLikeEngine(tf, v, params[i].value.data)) },
    ],
    read: (times) => Object.fromEntries(["in, dataSync", "in, storage", "kernel", "out, assign", "out, engine"].map((name) => [name, times.get(phase(name))])),
    dispose: () => {
      adam.dispose();
      for (const p of params) p.value.dispose(), p.grad.dispose();
    },
  };
}

/**
 * The optimizers of `available`, made for `tf`, each with its own variables (`makeData()`) and tried
 * once with `tryStep(optimizer, data)`: those that throw (an engine this build does not have yet)
 * are disposed and reported, not timed. Returns `[{ name, optimizer, data }]`.
 */
function makeOptimizers(tf, makeData, tryStep, failed) {
  const ready = [];
  for (const o of available) {
    const optimizer = o.make(tf);
    const data = makeData();
    try {
      tryStep(optimizer, data);
      ready.push({ name: o.name, optimizer, data });
    } catch (error) {
      failed.set(o.name, error instanceof Error ? error.message : String(error));
      optimizer.dispose();
      data.dispose();
    }
  }
  return ready;
}

/** Optimizer time per step on one backend and model, and the kernels engine's phases. */
async function optimizerTimes(tf, pkg, backendName, model, options, failed) {
  await tf.setBackend(backendName);
  const data = variablesAndGradients(tf, model.shapes);
  const grads = Object.values(data.gradients);
  const optimizers = makeOptimizers(tf, () => variablesAndGradients(tf, model.shapes, grads), (optimizer, own) => optimizer.applyGradients(own.gradients), failed);
  const phases = phaseCases(tf, pkg, backendName, model.shapes, data);
  // Two groups: the phases' copies by dataSync and assign leave ~50 MB of garbage per call, which
  // V8 collects on the other core while the next case runs; the optimizers are timed without it.
  const optimizerCases = optimizers.map(({ name, optimizer, data: own }) => ({ name, run: () => optimizer.applyGradients(own.gradients) }));
  const times = await timeGrouped([...optimizerCases, ...phases.cases.map((c) => ({ ...c, group: "phases" }))], options);
  optimizers.forEach(({ optimizer, data: own }) => (optimizer.dispose(), own.dispose()));
  phases.dispose();
  data.dispose();
  return {
    model: model.name,
    parameters: parameterCount(model.shapes),
    backend: backendName,
    rows: optimizers.map(({ name }) => ({ name, ms: times.get(name) })),
    phases: phases.read(times),
  };
}

/** A batch of 32 real digits (the first 32 of the file) as TF.js tensors. */
function digitsBatch(tf) {
  const data = parseDigits(gunzipSync(readFileSync(new URL("../examples/data/digits.csv.gz", import.meta.url))).toString("utf8"));
  const batch = 32;
  return {
    x: tf.tensor2d(data.images.subarray(0, batch * 64), [batch, 64]),
    y: tf.oneHot(tf.tensor1d(data.labels.subarray(0, batch), "int32"), 10),
  };
}

/** The digits MLP's whole training step (forward, backward, optimizer) per optimizer, on one backend. */
async function wholeStepTimes(tf, backendName, options, failed) {
  await tf.setBackend(backendName);
  const { x, y } = digitsBatch(tf);
  const shapes = mlpShapes([64, 64, 10]);
  const loss = ([w1, b1, w2, b2]) => tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2));
  const step = (optimizer, { variables }) => {
    const { value, grads } = tf.variableGrads(() => loss(variables), variables);
    optimizer.applyGradients(grads);
    tf.dispose([value, grads]);
  };
  const optimizers = makeOptimizers(tf, () => variablesAndGradients(tf, shapes), step, failed);
  const times = await timeGrouped(optimizers.map(({ name, optimizer, data }) => ({ name, run: () => step(optimizer, data) })), options);
  optimizers.forEach(({ optimizer, data }) => (optimizer.dispose(), data.dispose()));
  tf.dispose([x, y]);
  return { backend: backendName, rows: optimizers.map(({ name }) => ({ name, ms: times.get(name) })) };
}

/**
 * Runs the TF.js optimizer workloads on each backend of `tfs`. Returns
 * `{ optimizer: [{ model, parameters, backend, rows: [{ name, ms }], phases: { [phase]: ms } }],
 *    wholeStep: [{ backend, rows }], missing: [names of optimizers this build lacks],
 *    failed: [[name, error message]] }`, ms per step.
 */
export async function runTfjsBench({ pkgs, tfs }, options, models = MODELS) {
  await tfjsEntry.init?.(); // the same instance as the main entry's (already initialized), unless dist bundles two
  const optimizer = [];
  const wholeStep = [];
  const failed = new Map();
  for (const [backendName, tf] of Object.entries(tfs)) {
    for (const model of models) optimizer.push(await optimizerTimes(tf, pkgs.simd, backendName, model, options, failed));
    wholeStep.push(await wholeStepTimes(tf, backendName, options, failed));
  }
  return { optimizer, wholeStep, missing: OPTIMIZERS.filter((o) => !available.includes(o)).map((o) => o.name), failed: [...failed] };
}
