// The main entry's `formula: "tfjs"` (Adagrad, RMSprop, Adamax) against tf.train itself: the real
// tf.train.adagrad / rmsprop / adamax on TF.js's cpu backend and this package's kernels with gc
// false, from the same weights through the same 20 gradients. Also Adam, which needs no variant
// (its difference to tf.train.adam is measured and bounded here).
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Adadelta, Adagrad, Adam, Adamax, initSync, RMSprop, SGD } from "../src/index.js";
import { float32Power } from "../src/optim/formula.js";
import { randomArray } from "./random.js";

const STEPS = 20;
const SHAPES = [[5, 6], [7], [3, 4, 5], [4, 3, 3, 3], [9]];
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** The tolerance (relative): we see 0 (bit-identical weights); float32 rounding over 20 steps stays below it. */
const RTOL = 1e-6;

beforeAll(async () => {
  initSync();
  expect(await tf.setBackend("cpu")).toBe(true);
});

/**
 * max over every weight of |ours − tf's| / (|tf's| + 1e-3·scale) (relative, floored at 0.1% of the
 * largest weight); a NaN on both sides is a match (tf.train's centered RMSprop makes some), on one side Infinity.
 */
function worstRelative(ours: Float32Array[], theirs: Float32Array[]): number {
  const scale = Math.max(...theirs.map((a) => Math.max(...Array.from(a, (x) => (Number.isNaN(x) ? 0 : Math.abs(x))))));
  let worst = 0;
  ours.forEach((a, i) =>
    a.forEach((x, j) => {
      const y = theirs[i][j];
      if (Number.isNaN(x) && Number.isNaN(y)) return;
      const r = Math.abs(x - y) / (Math.abs(y) + 1e-3 * scale);
      worst = Math.max(worst, Number.isNaN(r) ? Infinity : r);
    }),
  );
  return worst;
}

const countNaN = (arrays: Float32Array[]) => arrays.reduce((n, a) => n + a.filter(Number.isNaN).length, 0);

type Maker = (params: { value: Float32Array; grad: Float32Array; shape: number[] }[]) => { step(): void; dispose(): void; stateDict(): unknown };

/** tf.train's optimizer and ours stepped side by side from the same weights through the same gradients (not disposed). */
function sideBySide(tfOptimizer: tf.Optimizer, make: Maker, seed: number, offset: number, steps: number) {
  const initial = SHAPES.map((shape, i) => randomArray(size(shape), seed + i, 0, 0.5));
  const variables = SHAPES.map((shape, i) => tf.variable(tf.tensor(initial[i], shape), true, `w${seed}_${i}_${Math.random()}`));
  const params = SHAPES.map((shape, i) => ({ value: Float32Array.from(initial[i]), grad: new Float32Array(size(shape)), shape }));
  const opt = make(params);
  for (let t = 0; t < steps; t++) {
    const grads = SHAPES.map((shape, i) => randomArray(size(shape), seed * 1000 + t * 31 + i, offset, 1));
    params.forEach((p, i) => p.grad.set(grads[i]));
    opt.step();
    const named = variables.map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[i], SHAPES[i]) }));
    tfOptimizer.applyGradients(named);
    tf.dispose(named.map((n) => n.tensor));
  }
  return {
    variables,
    opt,
    ours: () => params.map((p) => p.value),
    theirs: () => variables.map((v) => v.dataSync() as Float32Array),
    dispose() {
      tf.dispose(variables);
      tfOptimizer.dispose();
      opt.dispose();
    },
  };
}

/** Runs tf.train's optimizer and ours side by side; returns both final weight sets. */
function run(tfOptimizer: tf.Optimizer, make: Maker, seed: number, offset = 0.3, steps = STEPS): { ours: Float32Array[]; theirs: Float32Array[] } {
  const both = sideBySide(tfOptimizer, make, seed, offset, steps);
  const result = { ours: both.ours(), theirs: both.theirs() };
  both.dispose();
  return result;
}

/** What each comparison measured, printed at the end (the report quotes it). */
const worst: Record<string, number | string> = {};

afterAll(() => console.log("worst relative difference to tf.train:", worst));

describe("formula \"tfjs\" follows tf.train (cpu backend, gc false, 20 steps)", () => {
  const cases: [string, () => tf.Optimizer, Maker][] = [
    ["adagrad(0.1)", () => tf.train.adagrad(0.1), (p) => new Adagrad(p, { lr: 0.1, formula: "tfjs", initialAccumulatorValue: 0.1, eps: 1e-7, gc: false })],
    ["adagrad(0.05, 0.5)", () => tf.train.adagrad(0.05, 0.5), (p) => new Adagrad(p, { lr: 0.05, formula: "tfjs", initialAccumulatorValue: 0.5, eps: 1e-7, gc: false })],
    ["rmsprop(0.01)", () => tf.train.rmsprop(0.01), (p) => new RMSprop(p, { lr: 0.01, alpha: 0.9, eps: 1e-7, formula: "tfjs", gc: false })],
    ["rmsprop(0.01, 0.8, 0.9)", () => tf.train.rmsprop(0.01, 0.8, 0.9), (p) => new RMSprop(p, { lr: 0.01, alpha: 0.8, momentum: 0.9, eps: 1e-7, formula: "tfjs", gc: false })],
    ["rmsprop(0.01, 0.9, 0, 1e-7, centered)", () => tf.train.rmsprop(0.01, 0.9, 0, 1e-7, true), (p) => new RMSprop(p, { lr: 0.01, alpha: 0.9, centered: true, eps: 1e-7, formula: "tfjs", gc: false })],
    ["rmsprop(0.005, 0.95, 0.5, 1e-3, centered)", () => tf.train.rmsprop(0.005, 0.95, 0.5, 1e-3, true), (p) => new RMSprop(p, { lr: 0.005, alpha: 0.95, momentum: 0.5, centered: true, eps: 1e-3, formula: "tfjs", gc: false })],
    ["adamax(0.01)", () => tf.train.adamax(0.01), (p) => new Adamax(p, { lr: 0.01, eps: 1e-7, formula: "tfjs", gc: false })],
    ["adamax(0.02, 0.5, 0.9, 1e-3, decay 0.1)", () => tf.train.adamax(0.02, 0.5, 0.9, 1e-3, 0.1), (p) => new Adamax(p, { lr: 0.02, betas: [0.5, 0.9], eps: 1e-3, lrDecay: 0.1, formula: "tfjs", gc: false })],
    ["adadelta()", () => tf.train.adadelta(), (p) => new Adadelta(p, { lr: 1e-3, rho: 0.95, eps: 1e-7, formula: "tfjs", gc: false })],
    ["adadelta(1, 0.8, 1e-4)", () => tf.train.adadelta(1, 0.8, 1e-4), (p) => new Adadelta(p, { lr: 1, rho: 0.8, eps: 1e-4, formula: "tfjs", gc: false })],
  ];
  test.each(cases)("tf.train.%s", (name, tfMake, make) => {
    const { ours, theirs } = run(tfMake(), make, 3);
    const r = worstRelative(ours, theirs);
    worst[name] = r;
    if (countNaN(theirs) > 0) worst[`${name}: NaN weights in tf.train's / ours`] = `${countNaN(theirs)} / ${countNaN(ours)}`;
    expect(r).toBeLessThanOrEqual(RTOL);
  });

  test.each([
    ["adagrad", () => tf.train.adagrad(0.1), ((p) => new Adagrad(p, { lr: 0.1, initialAccumulatorValue: 0.1, eps: 1e-7, gc: false })) as Maker],
    ["rmsprop", () => tf.train.rmsprop(0.01, 0.9, 0.9), ((p) => new RMSprop(p, { lr: 0.01, alpha: 0.9, momentum: 0.9, eps: 1e-7, gc: false })) as Maker],
    ["adamax", () => tf.train.adamax(0.01, 0.9, 0.999, 1e-3), ((p) => new Adamax(p, { lr: 0.01, eps: 1e-3, gc: false })) as Maker],
    ["adadelta", () => tf.train.adadelta(1, 0.8, 1e-4), ((p) => new Adadelta(p, { lr: 1, rho: 0.8, eps: 1e-4, gc: false })) as Maker],
  ])("formula \"torch\" (the default) does not follow tf.train.%s within the tolerance (the comparison tells them apart)", (name, tfMake, make) => {
    const { ours, theirs } = run(tfMake(), make, 3);
    worst[`${name}, formula torch`] = worstRelative(ours, theirs);
    expect(worstRelative(ours, theirs)).toBeGreaterThan(5 * RTOL);
  });

  test("centered tf.train.rmsprop subtracts eps under the root: a zero gradient at step 1 gives NaN there, and here too", () => {
    const value = new Float32Array([1, 2]);
    const opt = new RMSprop([{ value, grad: new Float32Array([0, 1]), shape: [2] }], { lr: 0.01, alpha: 0.9, centered: true, eps: 1e-7, formula: "tfjs", gc: false });
    opt.step();
    opt.dispose();
    const v = tf.variable(tf.tensor([1, 2]));
    const tfOpt = tf.train.rmsprop(0.01, 0.9, 0, 1e-7, true);
    const g = tf.tensor([0, 1]);
    tfOpt.applyGradients([{ name: v.name, tensor: g }]);
    const theirs = v.dataSync();
    expect(Number.isNaN(theirs[0])).toBe(true);
    expect(Number.isNaN(value[0])).toBe(true);
    expect(Math.abs(value[1] - theirs[1])).toBeLessThanOrEqual(1e-6);
    tf.dispose([v, g]);
    tfOpt.dispose();
  });
});

describe("the state matches tf.train's slots bit for bit (getWeights: the engines' checkpoint names)", () => {
  // tf.train slot → this package's buffer, per rule (src/tfjs/engines/engine.ts names the slots)
  const cases: [string, () => tf.Optimizer, Maker, Record<string, string>][] = [
    ["adagrad(0.1)", () => tf.train.adagrad(0.1), (p) => new Adagrad(p, { lr: 0.1, formula: "tfjs", initialAccumulatorValue: 0.1, eps: 1e-7, gc: false }), { accumulator: "sum" }],
    ["rmsprop(0.01)", () => tf.train.rmsprop(0.01), (p) => new RMSprop(p, { lr: 0.01, alpha: 0.9, eps: 1e-7, formula: "tfjs", gc: false }), { rms: "squareAvg", momentum: "momentumBuffer" }],
    ["rmsprop(0.01, 0.9, 0.5, 1e-3, centered)", () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-3, true), (p) => new RMSprop(p, { lr: 0.01, alpha: 0.9, momentum: 0.5, centered: true, eps: 1e-3, formula: "tfjs", gc: false }), { rms: "squareAvg", momentum: "momentumBuffer", mg: "gradAvg" }],
    ["adadelta(1, 0.8, 1e-4)", () => tf.train.adadelta(1, 0.8, 1e-4), (p) => new Adadelta(p, { lr: 1, rho: 0.8, eps: 1e-4, formula: "tfjs", gc: false }), { accum_grad: "squareAvg", accum_var: "accDelta" }],
    ["adam(0.01)", () => tf.train.adam(0.01), (p) => new Adam(p, { lr: 0.01, eps: 1e-7, formula: "tfjs", gc: false }), { m: "expAvg", v: "expAvgSq" }],
  ];
  test.each(cases)("tf.train.%s", async (_, tfMake, make, slots) => {
    const tfOptimizer = tfMake();
    const both = sideBySide(tfOptimizer, make, 6, 0.3, STEPS);
    const state = (both.opt.stateDict() as { state: Record<string, Float32Array>[] }).state;
    const weights = (await tfOptimizer.getWeights()).slice(1); // [iterations, ...slots]
    expect(weights.length).toBe(SHAPES.length * Object.keys(slots).length);
    for (const { name, tensor } of weights) {
      const slash = name.lastIndexOf("/");
      const k = both.variables.findIndex((v) => v.name === name.slice(0, slash));
      expect(Array.from(state[k][slots[name.slice(slash + 1)]])).toEqual(Array.from(tensor.dataSync()));
    }
    both.dispose();
  });
});

describe("SGD needs no variant: tf.train.sgd and tf.train.momentum (nesterov too) are torch's SGD without dampening", () => {
  const cases: [string, () => tf.Optimizer, Maker][] = [
    ["sgd(0.1)", () => tf.train.sgd(0.1), (p) => new SGD(p, { lr: 0.1, gc: false })],
    ["momentum(0.05, 0.9)", () => tf.train.momentum(0.05, 0.9), (p) => new SGD(p, { lr: 0.05, momentum: 0.9, gc: false })],
    ["momentum(0.05, 0.9, nesterov)", () => tf.train.momentum(0.05, 0.9, true), (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, gc: false })],
  ];
  test.each(cases)("tf.train.%s", (name, tfMake, make) => {
    const { ours, theirs } = run(tfMake(), make, 3);
    worst[name] = worstRelative(ours, theirs);
    expect(worstRelative(ours, theirs)).toBeLessThanOrEqual(RTOL);
  });
});

describe("Adam: formula \"tfjs\" (β1ᵗ, β2ᵗ as float32 products) follows tf.train.adam over 50 steps; the default does not within 1e-6", () => {
  const cases: [number, number][] = [[1e-3, 3], [0.01, 4]];
  test.each(cases)("tf.train.adam(%s)", (lr, seed) => {
    const tfjs = run(tf.train.adam(lr), (p) => new Adam(p, { lr, eps: 1e-7, formula: "tfjs", gc: false }), seed, 0.3, 50);
    const torch = run(tf.train.adam(lr), (p) => new Adam(p, { lr, eps: 1e-7, gc: false }), seed, 0.3, 50);
    worst[`adam(${lr}) 50 steps, formula tfjs`] = worstRelative(tfjs.ours, tfjs.theirs);
    worst[`adam(${lr}) 50 steps, formula torch`] = worstRelative(torch.ours, torch.theirs);
    expect(worstRelative(tfjs.ours, tfjs.theirs)).toBeLessThanOrEqual(1e-6);
    expect(worstRelative(torch.ours, torch.theirs)).toBeGreaterThan(1e-6);
  });
});

test("βᵗ as tf.train keeps it (float32Power): the float32 product loop's value for any t, in any order (rewinds, jumps past the stored stride)", () => {
  for (const beta of [0.9, 0.999, 0.5, 0]) {
    const sequence = [1];
    for (let t = 1; t <= 5000; t++) sequence.push(Math.fround(sequence[t - 1] * Math.fround(beta)));
    for (const t of [0, 1, 2, 3, 1023, 1024, 1025, 4000, 10, 2048, 2047, 5000, 3, 3, 4]) expect(float32Power(beta, t)).toBe(sequence[t]);
    for (let t = 0; t <= 5000; t++) expect(float32Power(beta, t)).toBe(sequence[t]);
  }
});

describe("Adam with formula \"tfjs\" and GC on: tf.train.adam's operations where GC leaves a parameter, one division per value where it centers one", () => {
  /** `g` of `shape` with each out-first unit's float64 mean removed (what GC hands the rule), rounded to float32. */
  const centered = (g: Float32Array, shape: number[]) => {
    if (shape.length < 2) return g;
    const width = g.length / shape[0];
    const out = new Float32Array(g.length);
    for (let u = 0; u < shape[0]; u++) {
      let sum = 0;
      for (let i = 0; i < width; i++) sum += g[u * width + i];
      for (let i = 0; i < width; i++) out[u * width + i] = g[u * width + i] - sum / width;
    }
    return out;
  };

  test.each([[1e-3, 7], [0.01, 8]])("lr %s, 20 steps: rank-1 weights bit for bit as tf.train.adam's; the others as tf.train.adam's fed centered gradients, within the tolerance", (lr, seed) => {
    const initial = SHAPES.map((shape, i) => randomArray(size(shape), seed + i, 0, 0.5));
    const variables = SHAPES.map((shape, i) => tf.variable(tf.tensor(initial[i], shape), true, `gc_adam${seed}_${i}_${Math.random()}`));
    const params = SHAPES.map((shape, i) => ({ value: Float32Array.from(initial[i]), grad: new Float32Array(size(shape)), shape }));
    const opt = new Adam(params, { lr, eps: 1e-7, formula: "tfjs", gc: "gradient" });
    const tfOptimizer = tf.train.adam(lr);
    for (let t = 0; t < STEPS; t++) {
      const grads = SHAPES.map((shape, i) => randomArray(size(shape), seed * 1000 + t * 31 + i, 0.3, 1));
      params.forEach((p, i) => p.grad.set(grads[i]));
      opt.step();
      const named = variables.map((v, i) => ({ name: v.name, tensor: tf.tensor(centered(grads[i], SHAPES[i]), SHAPES[i]) }));
      tfOptimizer.applyGradients(named);
      tf.dispose(named.map((n) => n.tensor));
    }
    const ours = params.map((p) => p.value);
    const theirs = variables.map((v) => v.dataSync() as Float32Array);
    SHAPES.forEach((shape, i) => {
      if (shape.length === 1) expect(Array.from(ours[i]), `[${shape}]`).toEqual(Array.from(theirs[i]));
    });
    const ranked = SHAPES.flatMap((shape, i) => (shape.length > 1 ? [i] : []));
    const r = worstRelative(ranked.map((i) => ours[i]), ranked.map((i) => theirs[i]));
    worst[`adam(${lr}) + GC, centered weights`] = r;
    expect(r).toBeLessThanOrEqual(RTOL);
    tf.dispose(variables);
    tfOptimizer.dispose();
    opt.dispose();
  });
});
