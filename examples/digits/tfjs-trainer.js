// The same MLP in TensorFlow.js (cpu backend), trained with this package's TF.js optimizers
// (train.adam, train.adamw: the fused kernels step TF.js's variables) and, for reference, with
// TF.js's own tf.train.adam (GC by the withGradientCentralization adapter): the weights start from
// the same He initialization as the package runs (transposed to TF.js's out-last [in, out]) and
// see the same batches in the same order.
import * as tf from "@tensorflow/tfjs";
import { init as initTfjsEntry, train, withGradientCentralization } from "gradient-centralization/tfjs";
import { permutation, uniform } from "./random.js";
import { NETWORKS } from "./settings.js";
import { TRAINING } from "./train.js";

/** The TF.js settings, with the package runs' hyperparameters (ε as torch's 1e-8); `create(gc)` makes the optimizer. */
export const TFJS_OPTIMIZERS = {
  "tfjs-adam": {
    label: "TF.js MLP + train.adam",
    description: "train.adam(2e-3, 0.9, 0.999, 1e-8, { gc }) from gradient-centralization/tfjs: a tf.Optimizer whose step runs in the package's kernels",
    gc: 'off, and "gradient"',
    create: (gc) => train.adam(2e-3, 0.9, 0.999, 1e-8, { gc }),
  },
  "tfjs-adamw": {
    label: "TF.js MLP + train.adamw",
    description: "train.adamw(2e-3, { weightDecay: 0.01, gc }) from gradient-centralization/tfjs (decoupled weight decay, as the package's AdamW)",
    gc: 'off, and "gradient"',
    create: (gc) => train.adamw(2e-3, { weightDecay: 0.01, gc }),
  },
  "tf-adam": {
    label: "TF.js MLP + tf.train.adam",
    description: "TF.js's own tf.train.adam(2e-3, 0.9, 0.999, 1e-8), for reference",
    gc: 'off, and "gradient" by the withGradientCentralization adapter (TF.js ops)',
    create: (gc) => (gc ? withGradientCentralization(tf.train.adam(2e-3, 0.9, 0.999, 1e-8), { gc }) : tf.train.adam(2e-3, 0.9, 0.999, 1e-8)),
  },
};

/** The group the TF.js settings' rows sit in. */
export const TFJS_NETWORK = `${NETWORKS.mlp.description} in TF.js, cpu backend`;

let runs = 0;

/**
 * Selects TF.js's cpu backend (pure JS, the same on every machine). Its first tensor makes TF.js
 * print a banner suggesting @tensorflow/tfjs-node, which would land in the middle of the job's
 * progress bar: that tensor is made here, with that one banner held back (any other warning passes).
 */
export async function initTfjs() {
  await initTfjsEntry(); // the kernels train.* steps with (the same module as the main entry's init, when dist shares it)
  await tf.setBackend("cpu");
  await tf.ready();
  const warn = console.warn;
  console.warn = (...args) => {
    if (!String(args[0]).includes("tfjs-node")) warn(...args);
  };
  try {
    tf.dispose(tf.zeros([1]));
  } finally {
    console.warn = warn;
  }
  return tf.getBackend();
}

/** A run in TF.js with the same interface as `Trainer`: `epoch(onStep)`, `evaluate()`, `epochTimes`. */
export class TfjsTrainer {
  constructor(split, { optimizer, gc, seed, batch = TRAINING.batch }) {
    this.split = split;
    this.batch = batch;
    this.random = uniform(seed ^ 0x5eed);
    const init = NETWORKS.mlp.create(seed);
    this.variables = init.params.map(({ name, shape, value }) => {
      // A copy: TF.js's cpu backend keeps the array it is given, and value.data is a view of the
      // package's linear memory, freed below (and detached when that memory grows).
      const values = value.data.slice();
      const outLast = shape.length === 2 ? tf.tidy(() => tf.transpose(tf.tensor2d(values, shape))) : tf.tensor1d(values);
      const variable = tf.variable(outLast, true, `${name}-run${++runs}`); // TF.js variable names must be unique
      outLast.dispose();
      return variable;
    });
    init.dispose();
    this.optimizer = TFJS_OPTIMIZERS[optimizer].create(gc);
    this.images = { train: tf.tensor2d(split.train.images, [split.train.count, 64]), heldOut: tf.tensor2d(split.heldOut.images, [split.heldOut.count, 64]) };
    this.labels = { train: tf.tensor1d(split.train.labels, "int32"), heldOut: tf.tensor1d(split.heldOut.labels, "int32") };
    this.epochTimes = [];
  }

  get stepsPerEpoch() {
    return Math.ceil(this.split.train.count / this.batch);
  }

  #logits(x) {
    const [w1, b1, w2, b2] = this.variables;
    return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2);
  }

  #loss(x, labels) {
    return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), this.#logits(x));
  }

  epoch(onStep = () => {}) {
    const count = this.split.train.count;
    const order = permutation(count, this.random);
    let [stepMs, optimizerMs, steps] = [0, 0, 0];
    for (let start = 0; start < count; start += this.batch) {
      const indices = tf.tensor1d(order.slice(start, start + this.batch), "int32");
      const begin = performance.now();
      const x = tf.gather(this.images.train, indices);
      const labels = tf.gather(this.labels.train, indices);
      const { value, grads } = tf.variableGrads(() => this.#loss(x, labels), this.variables);
      const beforeStep = performance.now();
      this.optimizer.applyGradients(grads);
      const end = performance.now();
      const loss = value.dataSync()[0];
      tf.dispose([indices, x, labels, value, grads]);
      stepMs += end - begin;
      optimizerMs += end - beforeStep;
      steps++;
      onStep(loss);
    }
    this.epochTimes.push({ stepMs: stepMs / steps, optimizerMs: optimizerMs / steps });
  }

  evaluate() {
    const on = (part) =>
      tf.tidy(() => {
        const logits = this.#logits(this.images[part]);
        const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(this.labels[part], 10), logits).dataSync()[0];
        const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), this.labels[part]), "float32")).dataSync()[0];
        return { loss, accuracy };
      });
    const [train, heldOut] = [on("train"), on("heldOut")];
    return { trainLoss: train.loss, trainAccuracy: train.accuracy, heldOutLoss: heldOut.loss, heldOutAccuracy: heldOut.accuracy };
  }

  dispose() {
    tf.dispose([...this.variables, this.images.train, this.images.heldOut, this.labels.train, this.labels.heldOut]);
    this.optimizer.dispose();
  }
}
