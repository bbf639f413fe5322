// The demo's TF.js model: a small conv net built with tf.layers (conv 3×3 ×8 → max-pool 2×2 →
// dense 10, softmax), compiled with this package's TF.js optimizer train.adam, GC on or off, and
// trained batch by batch with model.trainOnBatch on TF.js's wasm backend (or webgl). The same seed
// gives the same initial weights and the same batch order, so runs with GC on and off differ only by GC.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { centralizeTensor, init, train } from "gradient-centralization/tfjs";
import { permutation, uniform } from "../digits/random.js";
import { TRAINING } from "../digits/train.js";
import { registerWasmConv2dBackpropFilter } from "./wasm-conv2d-grad.js";

const LEARNING_RATE = 2e-3;

/**
 * Loads TF.js's `name` backend ("wasm": its .wasm files from `wasmPaths`; "webgl") and selects it,
 * and this package's kernels for train.adam. Resolves to the backend's name.
 */
export async function useBackend(name, wasmPaths) {
  await init(); // train.* steps in the package's kernels on the cpu and wasm backends (a no-op once the page's init() ran)
  if (!tf.findBackend(name)) {
    if (name === "wasm") {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      wasm.setWasmPaths(wasmPaths);
      registerWasmConv2dBackpropFilter();
    } else if (name === "webgl") {
      await import("@tensorflow/tfjs-backend-webgl");
    }
  }
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend "${name}" could not start here`);
  await tf.ready();
  return tf.getBackend();
}

/** The conv net: [8, 8, 1] → conv 3×3 ×8 (ReLU) → max-pool 2×2 → dense 10 (softmax), He-initialized from `seed`. */
function convNet(seed) {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 8, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: tfl.initializers.heNormal({ seed }) }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 10, activation: "softmax", kernelInitializer: tfl.initializers.heNormal({ seed: seed + 1 }) }));
  return model;
}

/** One run of the TF.js conv net; the same interface as examples/digits/train.js's Trainer, but asynchronous. */
export class TfjsTrainer {
  /** @param split `{ train, heldOut }` from `splitDigits`; `gc`: "gradient" or false. */
  constructor(split, { gc, seed, batch = TRAINING.batch }) {
    this.split = split;
    this.batch = batch;
    this.gc = gc;
    this.random = uniform(seed ^ 0x5eed);
    this.model = convNet(seed);
    // `model` lets the optimizer read each variable's layer and centralize over its output units.
    this.optimizer = train.adam(LEARNING_RATE, 0.9, 0.999, 1e-7, { gc, model: this.model });
    this.model.compile({ optimizer: this.optimizer, loss: "categoricalCrossentropy" });
    const images = (part) => tf.tensor4d(split[part].images, [split[part].count, 8, 8, 1]);
    const labels = (part) => tf.tidy(() => tf.oneHot(tf.tensor1d(split[part].labels, "int32"), 10));
    this.x = { train: images("train"), heldOut: images("heldOut") };
    this.y = { train: labels("train"), heldOut: labels("heldOut") };
    this.capture = { name: "conv2d kernel", shape: this.model.layers[0].getWeights()[0].shape };
    this.captured = undefined;
    this.steps = 0;
    this.stepMs = 0;
  }

  /** The engine train.adam steps with: "kernels" (the package's WebAssembly kernels) or "tfjs" (TF.js ops); known after the first step. */
  get engine() {
    return this.optimizer.engineKind;
  }

  get stepsPerEpoch() {
    return Math.ceil(this.split.train.count / this.batch);
  }

  /** One pass over the training set in a seeded order; keeps the conv kernel's gradient on the last batch in `captured`. */
  async epoch() {
    const count = this.split.train.count;
    const order = permutation(count, this.random);
    let last;
    for (let start = 0; start < count; start += this.batch) {
      const indices = tf.tensor1d(order.slice(start, start + this.batch), "int32");
      const [x, y] = [tf.gather(this.x.train, indices), tf.gather(this.y.train, indices)];
      const begin = performance.now();
      await this.model.trainOnBatch(x, y); // reads the loss back: the step is done when it resolves
      this.stepMs += performance.now() - begin;
      this.steps++;
      tf.dispose([last?.x, last?.y, indices]);
      last = { x, y };
    }
    this.captured = this.#kernelGradient(last.x, last.y);
    tf.dispose([last.x, last.y]);
  }

  /** The conv kernel's gradient of the loss on one batch, as a Float32Array (and, with GC, after GC). */
  #kernelGradient(x, y) {
    const kernel = this.model.layers[0].trainableWeights[0].read();
    return tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.mean(tfl.metrics.categoricalCrossentropy(y, this.model.apply(x))), [kernel]);
      const gradient = grads[kernel.name];
      return { before: gradient.dataSync().slice(), after: this.gc ? centralizeTensor(gradient).dataSync().slice() : undefined };
    });
  }

  /** Loss and accuracy on the whole training set and on the held-out set. */
  evaluate() {
    const on = (part) =>
      tf.tidy(() => {
        const probabilities = this.model.predict(this.x[part]);
        const loss = tf.mean(tfl.metrics.categoricalCrossentropy(this.y[part], probabilities)).dataSync()[0];
        const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(probabilities, 1), tf.argMax(this.y[part], 1)), "float32")).dataSync()[0];
        return { loss, accuracy };
      });
    const [trainSet, heldOut] = [on("train"), on("heldOut")];
    return { trainLoss: trainSet.loss, trainAccuracy: trainSet.accuracy, heldOutLoss: heldOut.loss, heldOutAccuracy: heldOut.accuracy };
  }

  dispose() {
    tf.dispose([this.x.train, this.x.heldOut, this.y.train, this.y.heldOut]);
    this.model.dispose();
    this.optimizer.dispose();
  }
}
