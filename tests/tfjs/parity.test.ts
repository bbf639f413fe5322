// With gc: false each train.* optimizer follows the tf.train optimizer of the same name over
// model.fit on real models (digits MLP and conv net), on the cpu and wasm backends.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, test } from "vitest";
import { init, train } from "../../src/tfjs/index.js";
import { randomArray } from "../random.js";
import { finiteShare, fitWeights, type ModelKind, worstRelative } from "./fixtures.js";

const STEPS = 24;
const TOLERANCE = 1e-5;

const cases: [string, () => tf.Optimizer, () => tf.Optimizer][] = [
  ["sgd", () => tf.train.sgd(0.1), () => train.sgd(0.1, { gc: false })],
  ["momentum", () => tf.train.momentum(0.05, 0.9), () => train.momentum(0.05, 0.9, false, { gc: false })],
  ["momentum (Nesterov)", () => tf.train.momentum(0.05, 0.9, true), () => train.momentum(0.05, 0.9, true, { gc: false })],
  ["adam", () => tf.train.adam(0.01), () => train.adam(0.01, undefined, undefined, undefined, { gc: false })],
  ["adam (defaults)", () => tf.train.adam(), () => train.adam(undefined, undefined, undefined, undefined, { gc: false })],
  ["adam (β 0.8, 0.99, ε 1e-4)", () => tf.train.adam(0.01, 0.8, 0.99, 1e-4), () => train.adam(0.01, 0.8, 0.99, 1e-4, { gc: false })],
  ["adamax", () => tf.train.adamax(0.01), () => train.adamax(0.01, undefined, undefined, undefined, undefined, { gc: false })],
  ["adamax (decay 0.05)", () => tf.train.adamax(0.01, 0.9, 0.99, null as unknown as number, 0.05), () => train.adamax(0.01, 0.9, 0.99, null, 0.05, { gc: false })],
  ["adagrad", () => tf.train.adagrad(0.1), () => train.adagrad(0.1, undefined, { gc: false })],
  ["adagrad (initial 0.5)", () => tf.train.adagrad(0.1, 0.5), () => train.adagrad(0.1, 0.5, { gc: false })],
  ["adadelta", () => tf.train.adadelta(1), () => train.adadelta(1, undefined, undefined, { gc: false })],
  ["adadelta (defaults)", () => tf.train.adadelta(), () => train.adadelta(undefined, undefined, undefined, { gc: false })],
  ["rmsprop", () => tf.train.rmsprop(0.003), () => train.rmsprop(0.003, undefined, undefined, undefined, undefined, { gc: false })],
  ["rmsprop (momentum 0.9)", () => tf.train.rmsprop(0.001, 0.95, 0.9), () => train.rmsprop(0.001, 0.95, 0.9, undefined, undefined, { gc: false })],
];

describe.each(["cpu", "wasm"])("%s backend", (backend) => {
  beforeAll(async () => {
    await init();
    expect(await tf.setBackend(backend)).toBe(true);
  });
  // The wasm backend cannot train Conv2D (no Conv2DBackpropFilter kernel): the conv net there is Conv3D's.
  const kinds: ModelKind[] = backend === "cpu" ? ["mlp", "conv2d", "conv3d"] : ["mlp", "conv3d"];
  for (const kind of kinds) {
    test.each(cases)(`%s on the ${kind} follows tf.train's`, async (_name, reference, ours) => {
      const expected = await fitWeights(kind, reference(), STEPS);
      const optimizer = ours();
      const got = await fitWeights(kind, optimizer, STEPS);
      expect((optimizer as unknown as { engineKind: string }).engineKind).toBe("kernels");
      const worst = worstRelative(got, expected);
      expect(finiteShare(expected)).toBeGreaterThan(0.5); // a trajectory, not NaNs everywhere
      console.log(`${backend} ${kind} ${_name}: worst relative ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(TOLERANCE);
      optimizer.dispose();
    });
  }
});

// Centered tf.train.rmsprop divides by √(v − (mg² + ε)), NaN wherever v − mg² < ε (a zero
// gradient: a dead ReLU, at its first step), and one NaN weight makes a model's every output NaN,
// so its parity runs on gradients bounded away from 0, through applyGradients.
describe.each(["cpu", "wasm"])("%s backend, the same gradients", (backend) => {
  beforeAll(async () => {
    await init();
    expect(await tf.setBackend(backend)).toBe(true);
  });

  test("rmsprop (centered, momentum 0.5) follows tf.train's over 24 steps", () => {
    const shapes = [[6, 4], [4], [3, 3, 2, 5]];
    const initial = shapes.map((shape, k) => randomArray(shape.reduce((a, b) => a * b, 1), 40 + k, 0, 0.5));
    const make = (tag: string) => shapes.map((shape, k) => tf.variable(tf.tensor(initial[k], shape), true, `centered_${backend}_${tag}_${k}`));
    const [theirs, ours] = [make("theirs"), make("ours")];
    const reference = tf.train.rmsprop(0.001, 0.9, 0.5, 1e-6, true);
    const optimizer = train.rmsprop(0.001, 0.9, 0.5, 1e-6, true, { gc: false });
    for (let t = 0; t < STEPS; t++) {
      // |g| in [0.1, 1.1]: v − mg² stays above ε
      const grads = shapes.map((shape, k) => tf.tensor(randomArray(shape.reduce((a, b) => a * b, 1), 500 + 10 * t + k).map((x) => Math.sign(x || 1) * (0.1 + Math.min(Math.abs(x), 1))), shape));
      reference.applyGradients(theirs.map((v, k) => ({ name: v.name, tensor: grads[k] })));
      optimizer.applyGradients(ours.map((v, k) => ({ name: v.name, tensor: grads[k] })));
      tf.dispose(grads);
    }
    const expected = theirs.map((v) => v.dataSync() as Float32Array);
    expect(finiteShare(expected)).toBe(1);
    const worst = worstRelative(ours.map((v) => v.dataSync() as Float32Array), expected);
    console.log(`${backend} same gradients rmsprop (centered): worst relative ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(TOLERANCE);
    tf.dispose([...theirs, ...ours]);
    reference.dispose();
    optimizer.dispose();
  });
});
