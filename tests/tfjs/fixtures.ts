// Shared by the TF.js optimizer tests: the digits data, two small real models (a Dense MLP and a
// conv net) made with fixed weights, and training runs that return every weight after each step.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import * as tf from "@tensorflow/tfjs";
import { randomArray } from "../random.js";

/** The first `count` digits as [count, 8, 8, 1] images in [0, 1] and one-hot labels. */
export function digits(count: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  // 64 pixel values 0..16, then the label, one image a line (examples/data/README.md)
  const csv = gunzipSync(readFileSync(new URL("../../examples/data/digits.csv.gz", import.meta.url))).toString("utf8");
  const rows = csv.split("\n").filter((line) => line.trim() !== "").slice(0, count).map((line) => line.split(",").map(Number));
  if (rows.length < count) throw new Error(`digits: ${count} images asked, ${rows.length} in the file`);
  return tf.tidy(() => ({
    xs: tf.tensor4d(rows.flatMap((row) => row.slice(0, 64).map((x) => x / 16)), [count, 8, 8, 1]),
    ys: tf.oneHot(tf.tensor1d(rows.map((row) => row[64]), "int32"), 10).toFloat() as tf.Tensor2D,
  }));
}

/**
 * "mlp": Dense 64 → 32 → 10; "conv2d": Conv2D 3×3×6, max pooling, Dense; "conv3d": the same over
 * [8, 8, 1] volumes (TF.js's wasm backend has no Conv2DBackpropFilter kernel, but Conv3D's).
 */
export type ModelKind = "mlp" | "conv2d" | "conv3d";

/** A model of `kind` with weights drawn from a fixed seed (the same on every call). */
export function makeModel(kind: ModelKind): tf.LayersModel {
  const model = tf.sequential();
  if (kind === "mlp") {
    model.add(tf.layers.flatten({ inputShape: [8, 8, 1] }));
    model.add(tf.layers.dense({ units: 32, activation: "relu" }));
    model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  } else if (kind === "conv2d") {
    model.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 6, kernelSize: 3, activation: "relu" }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  } else {
    model.add(tf.layers.reshape({ inputShape: [8, 8, 1], targetShape: [8, 8, 1, 1] }));
    model.add(tf.layers.conv3d({ filters: 6, kernelSize: [3, 3, 1], activation: "relu" }));
    model.add(tf.layers.maxPooling3d({ poolSize: [2, 2, 1] }));
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

/**
 * The largest |a − b| / (|b| + floor) over every weight (the relative error, floored near 0). A NaN
 * on both sides agrees (centered tf.train.rmsprop makes NaNs, see README); on one side it is Infinity.
 */
export function worstRelative(a: readonly Float32Array[], b: readonly Float32Array[], floor = 1e-2): number {
  let worst = 0;
  a.forEach((values, k) => {
    for (let i = 0; i < values.length; i++) {
      const [x, y] = [values[i], b[k][i]];
      if (Number.isNaN(x) || Number.isNaN(y)) worst = Number.isNaN(x) && Number.isNaN(y) ? worst : Infinity;
      else worst = Math.max(worst, Math.abs(x - y) / (Math.abs(y) + floor));
    }
  });
  return worst;
}

/** The share of finite values among all weights. */
export function finiteShare(weights: readonly Float32Array[]): number {
  let finite = 0;
  let all = 0;
  for (const values of weights) {
    for (const x of values) finite += Number.isFinite(x) ? 1 : 0;
    all += values.length;
  }
  return finite / all;
}
