// The train.* optimizers on the TF.js-ops engine (engine: "tfjs") in model.fit on real models: with
// gc false each equals the tf.train optimizer of the same name bit for bit; with { model } every
// layer's kernel steps on its own unit axes (Embedding rows that were not looked up stay put); no
// tensor leaks over 1,000 minimize steps. cpu and wasm backends (wasm: no Conv2D gradient in TF.js).
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, test } from "vitest";
import { train } from "../../src/tfjs/index.js";
import { fitWeights, type ModelKind } from "./fixtures.js";

const STEPS = 24;

const cases: [string, () => tf.Optimizer, () => tf.Optimizer][] = [
  ["sgd", () => tf.train.sgd(0.1), () => train.sgd(0.1, { gc: false, engine: "tfjs" })],
  ["momentum (Nesterov)", () => tf.train.momentum(0.05, 0.9, true), () => train.momentum(0.05, 0.9, true, { gc: false, engine: "tfjs" })],
  ["adam", () => tf.train.adam(0.01), () => train.adam(0.01, undefined, undefined, undefined, { gc: false, engine: "tfjs" })],
  ["adamax", () => tf.train.adamax(0.01, 0.9, 0.99, undefined, 0.01), () => train.adamax(0.01, 0.9, 0.99, undefined, 0.01, { gc: false, engine: "tfjs" })],
  ["adagrad", () => tf.train.adagrad(0.05), () => train.adagrad(0.05, undefined, { gc: false, engine: "tfjs" })],
  ["adadelta", () => tf.train.adadelta(1), () => train.adadelta(1, undefined, undefined, { gc: false, engine: "tfjs" })],
  ["rmsprop (centered, momentum)", () => tf.train.rmsprop(0.005, 0.9, 0.5, undefined, true), () => train.rmsprop(0.005, 0.9, 0.5, undefined, true, { gc: false, engine: "tfjs" })],
];

describe.each(["cpu", "wasm"])("%s backend", (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });
  const kinds: ModelKind[] = backend === "cpu" ? ["mlp", "conv2d"] : ["mlp", "conv3d"];
  for (const kind of kinds) {
    test.each(cases)(`%s (engine "tfjs", gc false) on the ${kind}: ${STEPS} model.fit steps equal tf.train's bit for bit`, async (_name, reference, ours) => {
      const expected = await fitWeights(kind, reference(), STEPS);
      const optimizer = ours();
      const got = await fitWeights(kind, optimizer, STEPS);
      expect((optimizer as unknown as { engineKind: string }).engineKind).toBe("tfjs");
      got.forEach((values, k) => expect(Array.from(values)).toEqual(Array.from(expected[k])));
      optimizer.dispose();
    });
  }

  // TF.js's wasm backend has no UnsortedSegmentSum, the Embedding's gradient: cpu only
  test.skipIf(backend === "wasm")("train.adam({ model, engine: \"tfjs\" }): an Embedding's 95 rows that were not looked up stay bit-identical; train.adam without model moves them all", async () => {
    const run = async (withModel: boolean) => {
      const model = tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: 100, outputDim: 8, inputLength: 3, embeddingsInitializer: tf.initializers.randomNormal({ seed: 4 }) }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
        ],
      });
      const before = model.layers[0].getWeights()[0].arraySync() as number[][];
      const optimizer = train.adam(0.01, undefined, undefined, undefined, withModel ? { model, engine: "tfjs" } : { engine: "tfjs" });
      model.compile({ optimizer, loss: "meanSquaredError" });
      const ids = [3, 17, 42, 64, 99];
      const xs = tf.tensor2d(Array.from({ length: 24 }, (_, i) => ids[(i * 7) % 5]), [8, 3]);
      const ys = tf.randomNormal([8, 1], 0, 1, "float32", 6);
      await model.fit(xs, ys, { epochs: 5, batchSize: 8, verbose: 0 });
      const after = model.layers[0].getWeights()[0].arraySync() as number[][];
      tf.dispose([xs, ys]);
      model.dispose();
      optimizer.dispose();
      return { moved: after.flatMap((row, r) => (row.some((x, j) => x !== before[r][j]) ? [r] : [])), ids };
    };
    const { moved, ids } = await run(true);
    expect(moved).toEqual(ids);
    expect((await run(false)).moved.length).toBe(100);
  });

  test("train.* on the ops engine leak no tensor over 1,000 minimize steps (gc update, clipping, a schedule)", () => {
    const w = tf.variable(tf.randomNormal([8, 4], 0, 1, "float32", 1), true, `ops-leak-w-${backend}`);
    const k = tf.variable(tf.randomNormal([3, 3, 2, 4], 0, 1, "float32", 2), true, `ops-leak-k-${backend}`);
    const b = tf.variable(tf.zeros([4]), true, `ops-leak-b-${backend}`);
    const x = tf.randomNormal([16, 8], 0, 1, "float32", 3);
    const patches = tf.randomNormal([10, 18], 0, 1, "float32", 4);
    const loss = () => tf.tidy(() => tf.add(tf.mean(tf.square(tf.add(tf.matMul(x, w), b))), tf.mean(tf.square(tf.matMul(patches, tf.reshape(k, [18, 4]))))) as tf.Scalar);
    for (const optimizer of [
      train.adam((t: number) => 0.01 / (1 + t), undefined, undefined, undefined, { gc: "update", clipNorm: 1, engine: "tfjs" }),
      train.ranger(0.01, { weightDecay: 0.01, globalClipNorm: 1, engine: "tfjs" }),
      train.nadam(0.01, { engine: "tfjs" }),
    ]) {
      optimizer.minimize(loss); // makes the state
      const start = tf.memory().numTensors;
      for (let i = 0; i < 1000; i++) optimizer.minimize(loss);
      expect(tf.memory().numTensors).toBe(start);
      optimizer.dispose();
    }
    tf.dispose([w, k, b, x, patches]);
  });
});
