// No tensor leaks: 1,000 steps of minimize (every option that makes tensors: clipping, a
// schedule) leave tf.memory().numTensors and the package's live Tensors and bytes where the
// first step left them; dispose() frees the state in linear memory.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, test } from "vitest";
import { memory } from "../../src/index.js";
import { init, train } from "../../src/tfjs/index.js";
import { digits, makeModel } from "./fixtures.js";

const STEPS = 1000;

describe.each(["cpu", "wasm"])("%s backend", (backend) => {
  beforeAll(async () => {
    await init();
    expect(await tf.setBackend(backend)).toBe(true);
  });

  const settings: [string, () => tf.Optimizer][] = [
    ["adam, gc gradient, clipNorm, a schedule", () => train.adam((step) => 1e-3 / (1 + step / 100), undefined, undefined, undefined, { gc: "gradient", clipNorm: 1 })],
    ["ranger, gc update, globalClipNorm", () => train.ranger(1e-3, { gc: "update", globalClipNorm: 1 })],
    ["momentum, clipValue", () => train.momentum(0.01, 0.9, false, { clipValue: 0.01 })],
  ];

  test.each(settings)(`%s: ${STEPS} minimize steps leak no tensor`, (_name, make) => {
    const model = makeModel("mlp");
    const { xs, ys } = digits(32);
    const optimizer = make();
    const loss = () => tf.losses.softmaxCrossEntropy(ys, model.predict(xs) as tf.Tensor) as tf.Scalar;
    optimizer.minimize(loss);
    const tensors = tf.memory().numTensors;
    const live = memory();
    for (let i = 1; i < STEPS; i++) optimizer.minimize(loss);
    expect(optimizer.iterations).toBe(STEPS);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(memory().tensors).toBe(live.tensors);
    expect(memory().bytes).toBe(live.bytes);
    optimizer.dispose();
    expect(memory().bytes).toBeLessThan(live.bytes);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
