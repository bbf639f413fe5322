// Before init(): engine "kernels" is refused by name; the tfjs entry's init is the main entry's
// (one module instance), after which "auto" picks the kernels on the cpu backend.
import * as tf from "@tensorflow/tfjs";
import { expect, test } from "vitest";
import { backend as mainBackend, Tensor } from "../../src/index.js";
import { backend, init, train } from "../../src/tfjs/index.js";

test('engine "kernels" before init() throws a TypeError naming the optimizer and asking for await init()', () => {
  expect(() => train.adam(1e-3, undefined, undefined, undefined, { engine: "kernels" })).toThrow(TypeError);
  expect(() => train.adam(1e-3, undefined, undefined, undefined, { engine: "kernels" })).toThrow(/^train\.adam: .*await init\(\)/);
  expect(() => train.lion(1e-4, { engine: "kernels" })).toThrow(/^train\.lion: .*await init\(\)/);
  expect(() => backend()).toThrow(/init/);
});

test('engine "auto" before init() steps with TF.js ops, and keeps that engine', async () => {
  await tf.setBackend("cpu");
  const optimizer = train.sgd(0.5, { gc: false });
  const v = tf.variable(tf.ones([2, 2]), true, "before_init/auto");
  const g = tf.ones([2, 2]);
  optimizer.applyGradients({ [v.name]: g });
  expect(optimizer.engineKind).toBe("tfjs");
  expect(Array.from(v.dataSync())).toEqual([0.5, 0.5, 0.5, 0.5]);
  tf.dispose([v, g]);
  optimizer.dispose();
});

test("the tfjs entry's init() is the main entry's; then engine auto picks the kernels on the cpu backend", async () => {
  await tf.setBackend("cpu");
  const build = await init();
  expect(mainBackend()).toBe(build);
  expect(() => new Tensor([2]).dispose()).not.toThrow();
  const optimizer = train.adam(1e-3);
  const v = tf.variable(tf.ones([2, 2]), true, "before_init/kernel");
  const g = tf.ones([2, 2]);
  optimizer.applyGradients({ [v.name]: g });
  expect(optimizer.engineKind).toBe("kernels");
  tf.dispose([v, g]);
  optimizer.dispose();
});
