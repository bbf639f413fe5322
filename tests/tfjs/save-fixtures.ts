// Models, data and the save → load → continue loop of the TF.js serialization tests
// (tests/tfjs/serialization.test.ts). Two real models on the digits data set: an MLP and a small
// conv net, built with seeded initializers so that two builds start from the same weights, trained
// with `trainOnBatch` on fixed batches (no shuffling), so that two runs see the same steps.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import * as tf from "@tensorflow/tfjs";

export const PIXELS = 64;
export const CLASSES = 10;
export const BATCH = 32;

/** The digits set (examples/data/digits.csv.gz, UCI, CC BY 4.0): pixels scaled to [0, 1], one-hot labels. */
export function loadDigits(count = 8 * BATCH): { images: Float32Array; labels: Uint8Array } {
  const csv = gunzipSync(readFileSync(new URL("../../examples/data/digits.csv.gz", import.meta.url))).toString("utf8");
  const lines = csv.split("\n").filter((line) => line.trim() !== "").slice(0, count);
  const images = new Float32Array(lines.length * PIXELS);
  const labels = new Uint8Array(lines.length);
  lines.forEach((line, n) => {
    const fields = line.split(",").map(Number);
    for (let p = 0; p < PIXELS; p++) images[n * PIXELS + p] = fields[p] / 16;
    labels[n] = fields[PIXELS];
  });
  return { images, labels };
}

/** A batch: images shaped for the model, one-hot labels. */
export interface Batch { x: tf.Tensor; y: tf.Tensor }

/** Fixed consecutive batches of `BATCH` images, shaped `[n, 64]` (mlp) or `[n, 8, 8, 1]` (conv, conv3d). */
export function batchesOf(data: { images: Float32Array; labels: Uint8Array }, kind: ModelKind): Batch[] {
  const batches: Batch[] = [];
  for (let start = 0; start + BATCH <= data.labels.length; start += BATCH) {
    const pixels = data.images.subarray(start * PIXELS, (start + BATCH) * PIXELS);
    const x = kind === "mlp" ? tf.tensor2d(pixels, [BATCH, PIXELS]) : tf.tensor4d(pixels, [BATCH, 8, 8, 1]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(data.labels.subarray(start, start + BATCH), "int32"), CLASSES));
    batches.push({ x, y });
  }
  return batches;
}

/** "conv3d": the conv net over [8, 8, 1, 1] volumes (TF.js's wasm backend cannot train Conv2D: no Conv2DBackpropFilter). */
export type ModelKind = "mlp" | "conv" | "conv3d";

/**
 * The digits MLP (64 → 32 relu → 10 softmax) or a small conv net (8×8×1 → conv 3×3×4 relu →
 * conv 3×3×6 relu → flatten → 10 softmax; conv3d: reshape to 8×8×1×1 → conv 3×3×1×4 relu → flatten
 * → 10 softmax), from seeded initializers: every build has the same initial weights. Not compiled.
 */
export function buildModel(kind: ModelKind): tf.Sequential {
  const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
  const bias = () => tf.initializers.randomNormal({ mean: 0, stddev: 0.05, seed: 7 }); // non-zero biases: GC must leave rank-1 alone
  const model = tf.sequential();
  if (kind === "mlp") {
    model.add(tf.layers.dense({ inputShape: [PIXELS], units: 32, activation: "relu", kernelInitializer: seeded(1), biasInitializer: bias() }));
  } else if (kind === "conv3d") {
    model.add(tf.layers.reshape({ inputShape: [8, 8, 1], targetShape: [8, 8, 1, 1] }));
    model.add(tf.layers.conv3d({ filters: 4, kernelSize: [3, 3, 1], activation: "relu", kernelInitializer: seeded(2), biasInitializer: bias() }));
    model.add(tf.layers.flatten());
  } else {
    model.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: "relu", kernelInitializer: seeded(2), biasInitializer: bias() }));
    model.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: "relu", kernelInitializer: seeded(3), biasInitializer: bias() }));
    model.add(tf.layers.flatten());
  }
  model.add(tf.layers.dense({ units: CLASSES, activation: "softmax", kernelInitializer: seeded(4), biasInitializer: bias() }));
  return model;
}

/** Compiles `model` with `optimizer` and the digits loss. */
export function compile(model: tf.LayersModel, optimizer: tf.Optimizer): void {
  model.compile({ optimizer, loss: "categoricalCrossentropy" });
}

/** `trainOnBatch` over `batches[from..to)`, cycling through the batches. */
export async function trainSteps(model: tf.LayersModel, batches: readonly Batch[], from: number, to: number): Promise<void> {
  for (let step = from; step < to; step++) {
    const { x, y } = batches[step % batches.length];
    await model.trainOnBatch(x, y);
  }
}

/** The model's weights as plain arrays (same order as `model.getWeights()`). */
export function weightValues(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

/**
 * `model.save(..., { includeOptimizer: true })` into memory through `tf.io.withSaveHandler`; the
 * JSON parts (topology, training config) go through JSON.stringify/parse as every storage medium
 * does, so a config that is not plain JSON fails here too.
 */
export async function saveToMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
    { includeOptimizer: true },
  );
  const json = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));
  return { ...saved!, modelTopology: json(saved!.modelTopology), trainingConfig: json(saved!.trainingConfig) };
}

/** `tf.loadLayersModel` from artifacts saved by `saveToMemory`, through `tf.io.fromMemory`. */
export function loadFromMemory(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

/** The optimizer config as saved: `trainingConfig.optimizer_config`. */
export function savedOptimizerConfig(artifacts: tf.io.ModelArtifacts): { class_name: string; config: Record<string, unknown> } {
  return (artifacts.trainingConfig as unknown as { optimizer_config: { class_name: string; config: Record<string, unknown> } }).optimizer_config;
}

/** The names of the optimizer's weights as saved (group "optimizer"), in order. */
export function savedOptimizerWeightNames(artifacts: tf.io.ModelArtifacts): string[] {
  return (artifacts.weightSpecs ?? []).filter((spec) => spec.group === "optimizer").map((spec) => spec.name);
}

/** Largest |a − b| over paired arrays. */
export function maxAbsDiffs(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let worst = 0;
  a.forEach((values, i) => values.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j])))));
  return worst;
}

/** Largest |a − b| / (|b| + floor) over paired arrays: float32 rounding shows as ≲ 1e-6. */
export function maxRelDiffs(a: readonly Float32Array[], b: readonly Float32Array[], floor = 1e-3): number {
  let worst = 0;
  a.forEach((values, i) => values.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j]) / (Math.abs(b[i][j]) + floor)))));
  return worst;
}

/** Whether every pair of arrays holds the same float32 bit patterns. */
export function bitIdentical(a: readonly Float32Array[], b: readonly Float32Array[]): boolean {
  return a.length === b.length && a.every((values, i) => values.length === b[i].length && values.every((v, j) => Object.is(v, b[i][j])));
}

/**
 * The largest |mean over the non-unit axes| of Δw per output unit (last axis, TF.js's out-last)
 * over the rank > 1 weights: ≈ 0 when GC acted on the step, of the order of Δw itself otherwise.
 * Returns `{ unitMean, step }`: that worst unit mean and the largest |Δw| for scale.
 */
export function unitMeansOfStep(before: readonly Float32Array[], after: readonly Float32Array[], shapes: readonly number[][]): { unitMean: number; step: number } {
  let unitMean = 0;
  let step = 0;
  shapes.forEach((shape, k) => {
    if (shape.length < 2) return;
    const units = shape[shape.length - 1];
    const rows = before[k].length / units;
    for (let u = 0; u < units; u++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) {
        const delta = after[k][r * units + u] - before[k][r * units + u];
        sum += delta;
        step = Math.max(step, Math.abs(delta));
      }
      unitMean = Math.max(unitMean, Math.abs(sum / rows));
    }
  });
  return { unitMean, step };
}

/** Largest |mean over the non-unit axes| per unit (last axis) of one tensor, over its largest |value|: ≈ 0 when centered. */
export function unitMeanRatio(values: Float32Array, shape: readonly number[]): number {
  const units = shape[shape.length - 1];
  const rows = values.length / units;
  let worst = 0;
  let scale = 0;
  for (let u = 0; u < units; u++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      sum += values[r * units + u];
      scale = Math.max(scale, Math.abs(values[r * units + u]));
    }
    worst = Math.max(worst, Math.abs(sum / rows));
  }
  return worst / scale;
}
