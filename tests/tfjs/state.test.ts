// The optimizer's state as named tensors: tf.train's names and values (compared with tf.train's
// own getWeights), a getState/setState round trip that continues bit-identically, and steps with
// null gradients (a variable joining late is bias-corrected by the optimizer's iterations, as tf.train).
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, test } from "vitest";
import { init, train } from "../../src/tfjs/index.js";
import type { GcOptimizer } from "../../src/tfjs/optimizer.js";
import { randomArray } from "../random.js";

const SHAPES = [[5, 4], [4], [3, 3, 2, 3]];
let made = 0;

function variables(tag: string): tf.Variable[] {
  const run = made++;
  return SHAPES.map((shape, k) => tf.variable(tf.tensor(randomArray(shape.reduce((a, b) => a * b, 1), 20 + k, 0, 0.5), shape), true, `state_${run}_${tag}/v${k}`));
}

/** Step t's gradients; `skip(t, k)` makes variable k's null. */
function gradients(t: number, skip = (_t: number, _k: number) => false): (tf.Tensor | null)[] {
  return SHAPES.map((shape, k) => (skip(t, k) ? null : tf.tensor(randomArray(shape.reduce((a, b) => a * b, 1), 600 + 10 * t + k, 0.1), shape)));
}

function step(optimizer: tf.Optimizer, vars: tf.Variable[], grads: (tf.Tensor | null)[]): void {
  optimizer.applyGradients(vars.map((v, k) => ({ name: v.name, tensor: grads[k] as tf.Tensor })));
}

const values = (vars: tf.Variable[]) => vars.map((v) => Array.from(v.dataSync()));

describe.each(["cpu", "wasm"])("%s backend", (backend) => {
  beforeAll(async () => {
    await init();
    expect(await tf.setBackend(backend)).toBe(true);
  });

  const tfjsCases: [string, () => tf.Optimizer, () => tf.Optimizer][] = [
    ["adam", () => tf.train.adam(0.01), () => train.adam(0.01, undefined, undefined, undefined, { gc: false })],
    ["adamax", () => tf.train.adamax(0.01, 0.9, 0.99, undefined, 0.01), () => train.adamax(0.01, 0.9, 0.99, undefined, 0.01, { gc: false })],
    ["adagrad", () => tf.train.adagrad(0.1), () => train.adagrad(0.1, undefined, { gc: false })],
    ["rmsprop", () => tf.train.rmsprop(0.01, 0.9, 0.5), () => train.rmsprop(0.01, 0.9, 0.5, undefined, undefined, { gc: false })],
    ["momentum", () => tf.train.momentum(0.05, 0.9), () => train.momentum(0.05, 0.9, false, { gc: false })],
    ["adadelta", () => tf.train.adadelta(1), () => train.adadelta(1, undefined, undefined, { gc: false })],
  ];

  test.each(tfjsCases)("%s: with null gradients (variable 1 joins at step 4, variable 2 skips steps 5–6) and its state's names and values, as tf.train's", async (_name, theirs, ours) => {
    const skip = (t: number, k: number) => (k === 1 && t < 3) || (k === 2 && (t === 4 || t === 5));
    const [a, b] = [variables("theirs"), variables("ours")];
    const [reference, optimizer] = [theirs(), ours()];
    for (let t = 0; t < 10; t++) {
      const grads = gradients(t, skip);
      step(reference, a, grads);
      step(optimizer, b, grads);
      tf.dispose(grads.filter((g): g is tf.Tensor => g !== null));
    }
    expect(values(b)).toEqual(values(a));
    // tf.train's getWeights: [iterations, …state]; ours: the same state, by the variables' names
    // (tf.train.adamax has no getWeights: "not implemented for Adamax yet")
    if (_name === "adamax") await expect(reference.getWeights()).rejects.toThrow(/not implemented/);
    const expected = _name === "adamax" ? [] : (await reference.getWeights()).slice(1);
    const got = (optimizer as GcOptimizer).getState();
    const byName = new Map(got.map(({ name, tensor }) => [name.replace(/^state_\d+_ours/, ""), Array.from(tensor.dataSync())]));
    for (const { name, tensor } of expected) {
      const key = name.replace(/^state_\d+_theirs/, "");
      expect(byName.get(key), key).toEqual(Array.from(tensor.dataSync()));
    }
    tf.dispose(got.map(({ tensor }) => tensor));
    tf.dispose([...a, ...b]);
    reference.dispose();
    optimizer.dispose();
  });

  const roundTrips: [string, () => tf.Optimizer][] = [
    ["adam, gc gradient", () => train.adam(0.01, undefined, undefined, undefined, { gc: "gradient" })],
    ["rmsprop centered, gc update", () => train.rmsprop(0.003, 0.9, 0.5, 1e-7, true, { gc: "update" })],
    ["adagrad", () => train.adagrad(0.1, 0.3)],
    ["nadam (its μ-product)", () => train.nadam(2e-3, { weightDecay: 0.01 })],
    ["ranger (its slow weights and rhythm)", () => train.ranger(3e-3, { k: 4 })],
    ["lion", () => train.lion(1e-3, { weightDecay: 0.1, gc: "update" })],
    ["momentum, gc update (its centered buffer)", () => train.momentum(0.05, 0.9, false, { gc: "update" })],
    ["momentum Nesterov, gc gradient", () => train.momentum(0.05, 0.9, true, { gc: "gradient" })],
  ];

  test.each(roundTrips)("%s: getState after 7 steps, setState into a new optimizer, 7 more steps: as 14 uninterrupted", (_name, make) => {
    const [a, b] = [variables("whole"), variables("resumed")];
    const whole = make();
    let first = make();
    for (let t = 0; t < 14; t++) {
      const grads = gradients(t);
      step(whole, a, grads);
      if (t === 7) {
        const state = (first as GcOptimizer).getState();
        expect(state.every(({ name }) => b.some((v) => name.startsWith(`${v.name}/`)))).toBe(true);
        first.dispose();
        first = make();
        Object.assign(first, { iterations_: 7 }); // what tf.Optimizer.setWeights restores from "iter"
        (first as GcOptimizer).setState(state);
        tf.dispose(state.map(({ tensor }) => tensor));
      }
      step(first, b, grads);
      tf.dispose(grads as tf.Tensor[]);
    }
    expect(values(b)).toEqual(values(a));
    tf.dispose([...a, ...b]);
    whole.dispose();
    first.dispose();
  });
});

test("momentum, gc update: a loaded buffer that is not centered (tf.train's) is centered before the step, so unit means stay fixed", async () => {
  await init();
  await tf.setBackend("cpu");
  const [a, b] = [variables("tf"), variables("ours")];
  const reference = tf.train.momentum(0.05, 0.9);
  for (let t = 0; t < 3; t++) {
    const grads = gradients(t);
    step(reference, a, grads);
    tf.dispose(grads as tf.Tensor[]);
  }
  const rename = (name: string) => a.reduce((out, v, k) => out.replace(`${v.name}/`, `${b[k].name}/`), name);
  const state = (await reference.getWeights()).slice(1).map(({ name, tensor }) => ({ name: rename(name), tensor }));
  const optimizer = train.momentum(0.05, 0.9, false, { gc: "update" }) as GcOptimizer;
  optimizer.setState(state);
  const before = b[0].dataSync().slice();
  const grads = gradients(3);
  step(optimizer, b, grads);
  const delta = b[0].dataSync().map((x, i) => x - before[i]);
  for (let u = 0; u < 4; u++) {
    let sum = 0;
    for (let r = 0; r < 5; r++) sum += delta[r * 4 + u];
    expect(Math.abs(sum / 5)).toBeLessThan(1e-8);
  }
  tf.dispose([...a, ...b, ...(grads as tf.Tensor[])]);
  reference.dispose();
  optimizer.dispose();
});
