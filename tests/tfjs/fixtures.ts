// Shared by the TF.js optimizer tests: the digits data, two small real models (a Dense MLP and a
// conv net) made with fixed weights, and training runs that return every weight after each step.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import * as tf from "@tensorflow/tfjs";
import { parseDigits } from "../../examples/digits/data.js";
import { randomArray } from "../random.js";

/** The first `count` digits as [count, 8, 8, 1] images in [0, 1] and one-hot labels. */
export function digits(count: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const csv = gunzipSync(readFileSync(new URL("../../examples/data/digits.csv.gz", import.meta.url))).toString("utf8");
  const data = parseDigits(csv) as { images: Float32Array; labels: Uint8Array };
  return tf.tidy(() => ({
    xs: tf.tensor4d(data.images.subarray(0, count * 64), [count, 8, 8, 1]),
    ys: tf.oneHot(tf.tensor1d(Array.from(data.labels.subarray(0, count)), "int32"), 10).toFloat() as tf.Tensor2D,
  }));
}

export type ModelKind = "mlp" | "conv";

/** A model of `kind` with weights drawn from a fixed seed (the same on every call). */
export function makeModel(kind: ModelKind): tf.LayersModel {
  const model = tf.sequential();
  if (kind === "mlp") {
    model.add(tf.layers.flatten({ inputShape: [8, 8, 1] }));
    model.add(tf.layers.dense({ units: 32, activation: "relu" }));
    model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  } else {
    model.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 6, kernelSize: 3, activation: "relu" }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  }
  model.setWeights(
    model.getWeights().map((w, i) => tf.tidy(() => tf.tensor(randomArray(w.size, 1000 + i, 0, 0.3), w.shape))),
  );
  return model;
}

/** Trains a fresh `kind` model with `optimizer` by model.fit (no shuffling) and returns its weights after. */
export async function fitWeights(kind: ModelKind, optimizer: tf.Optimizer | ((model: tf.LayersModel) => tf.Optimizer), steps: number, batchSize = 32): Promise<Float32Array[]> {
  const model = makeModel(kind);
  const { xs, ys } = digits(steps * batchSize);
  model.compile({ optimizer: typeof optimizer === "function" ? optimizer(model) : optimizer, loss: "categoricalCrossentropy" });
  await model.fit(xs, ys, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
  const weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  tf.dispose([xs, ys]);
  model.dispose();
  return weights;
}

/** The largest |a − b| / (|b| + floor) over every weight (the relative error, floored near 0). */
export function worstRelative(a: readonly Float32Array[], b: readonly Float32Array[], floor = 1e-2): number {
  let worst = 0;
  a.forEach((values, k) => {
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - b[k][i]) / (Math.abs(b[k][i]) + floor));
  });
  return worst;
}
