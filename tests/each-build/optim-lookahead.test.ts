// Lookahead around SGD, Adam and AdamW against the float64 reference (tests/lookahead-oracle.ts
// around tests/optim-oracle.ts), its unit-mean invariance with the inner gc "update", checkpoints,
// the members it passes through to the inner optimizer, and its errors.
import { describe, expect, test } from "vitest";
import { Adam, AdamW, Lookahead, type LookaheadStateDict, SGD, Tensor } from "../../src/index.js";
import type { Param } from "../../src/index.js";
import { runtime } from "../../src/runtime.js";
import { LookaheadReference } from "../lookahead-oracle.js";
import { type Layout, unitIndices } from "../oracle.js";
import { AdamReference, type AdamSettings, SgdReference, type SgdSettings } from "../optim-oracle.js";
import { bits, compareTrajectory, gradientSequence, makeModel, referenceParams, resumeBits, SHAPES, trajectoryError } from "../optim-fixtures.js";
import { randomArray } from "../random.js";

const SGD_BASE: SgdSettings = { lr: 0.05, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, gc: "gradient", convOnly: false, layout: "out-first" };
const ADAM_BASE: AdamSettings = {
  lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false,
  gc: "gradient", convOnly: false, layout: "out-first", decoupled: false,
};

type Case = [string, { k: number; alpha: number }, "sgd" | "adam", SgdSettings | AdamSettings];

const CASES: Case[] = [
  ["SGD nesterov, L2, gc gradient", { k: 5, alpha: 0.5 }, "sgd", { ...SGD_BASE, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
  ["SGD momentum, dampening, gc update, out-last", { k: 3, alpha: 0.8 }, "sgd", { ...SGD_BASE, momentum: 0.5, dampening: 0.3, gc: "update", layout: "out-last" }],
  ["SGD without GC, k 1", { k: 1, alpha: 0.3 }, "sgd", { ...SGD_BASE, gc: false }],
  ["Adam amsgrad, L2, convOnly", { k: 5, alpha: 0.5 }, "adam", { ...ADAM_BASE, amsgrad: true, weightDecay: 0.01, convOnly: true }],
  ["AdamW gc update, out-last", { k: 4, alpha: 0.6 }, "adam", { ...ADAM_BASE, decoupled: true, weightDecay: 0.05, gc: "update", layout: "out-last" }],
  ["Adam without GC, alpha 1 (plain Adam)", { k: 6, alpha: 1 }, "adam", { ...ADAM_BASE, gc: false }],
];

function makeInner(kind: "sgd" | "adam", settings: SgdSettings | AdamSettings, params: Param[]): SGD | Adam | AdamW {
  if (kind === "sgd") return new SGD(params, settings as SgdSettings);
  const { decoupled, ...options } = settings as AdamSettings;
  return decoupled ? new AdamW(params, options) : new Adam(params, options);
}

const referenceFor = (kind: "sgd" | "adam", params: ReturnType<typeof referenceParams>) =>
  kind === "sgd" ? new SgdReference(params) : new AdamReference(params);

describe("20 steps against the float64 reference", () => {
  test.each(CASES)("%s", (_, { k, alpha }, kind, settings) => {
    const model = makeModel(51);
    const opt = new Lookahead(makeInner(kind, settings, model.params) as Adam, { k, alpha });
    const reference = new LookaheadReference<SgdSettings | AdamSettings>(referenceFor(kind, referenceParams(model)) as never, k, alpha);
    const start = referenceParams(model);
    for (const grads of gradientSequence(20, 51)) {
      model.setGrads(grads);
      opt.step();
      reference.step(grads, SHAPES.map(() => settings));
    }
    expect(trajectoryError(model.values(), reference.params, 20)).toBeLessThanOrEqual(1);
    const slow = opt.stateDict().slow as Float32Array[];
    expect(trajectoryError(slow, reference.slow.map((value, i) => ({ value, shape: SHAPES[i] })), 20)).toBeLessThanOrEqual(1);
    expect(opt.steps).toBe(20);
    // The interpolation matters: the inner optimizer alone ends far from Lookahead (unless α = 1).
    if (alpha < 1) {
      const plain = referenceFor(kind, start);
      for (const grads of gradientSequence(20, 51)) plain.step(grads, SHAPES.map(() => settings) as never);
      expect(trajectoryError(model.values(), plain.params, 20)).toBeGreaterThan(100);
    }
    opt.dispose();
    model.dispose();
  });

  test("the comparison can fail: α off by 0.01 is outside the tolerance", () => {
    const [, , kind, settings] = CASES[0];
    const model = makeModel(52);
    const opt = new Lookahead(makeInner(kind, settings, model.params) as SGD, { k: 5, alpha: 0.51 });
    const reference = new LookaheadReference(new SgdReference(referenceParams(model)), 5, 0.5);
    const { error } = compareTrajectory(model, opt, reference, settings as SgdSettings, 20, 52);
    expect(error).toBeGreaterThan(10);
  });
});

// The drift bound of tests/each-build/optim-invariant.test.ts (README "Accuracy of the
// optimizers"), extended by the synchronizations. An inner step moves a unit mean by at most
// u·(‖w‖∞ + D·‖Δ‖∞); a synchronization s' = fl(s + fl(α·fl(f − s))) by at most u·(‖s'‖∞ + 2α·‖f − s‖∞)
// (its three roundings); a drift of the fast weights enters the slow ones scaled by α ≤ 1. So
// after T steps a unit mean has moved at most the sum of those terms over the inner steps and
// the synchronizations. Each step is observed from outside: on a synchronization the fast
// weights f it interpolated are f = s + (s' − s)/α (s, s' the slow weights before and after),
// good enough for the bound's norms. Measured (both builds): at most 0.016 of the bound (1.95
// u·max|w|); an uncentered step of lr = 0.01 would be ~10³ times the bound.
describe('with the inner gc "update", the interpolation keeps every unit\'s weight mean where it was', () => {
  const STEPS = 100;
  const U = 2 ** -24;
  const K = 5;
  const ALPHA = 0.5;
  const INVARIANT_SHAPES = [[16, 3, 3, 3], [10, 50], [64, 7], [3, 5, 6]];

  function unitMeans(w: Float32Array, shape: number[], layout: Layout): number[] {
    return unitIndices(shape, layout).map((unit) => unit.reduce((sum, i) => sum + w[i], 0) / unit.length);
  }
  const maxAbs = (x: ArrayLike<number>) => Array.from(x).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, j) => Math.max(m, Math.abs(v - b[j])), 0);

  type MakeInner = (params: Param[], gc: "gradient" | "update", layout: Layout) => SGD | Adam | AdamW;

  /** Largest unit-mean change over the drift bound of its parameter; and over u·max|w|. */
  function drift(make: MakeInner, D: number, gc: "gradient" | "update", layout: Layout, offset: number) {
    const params = INVARIANT_SHAPES.map((shape, i) => {
      const size = shape.reduce((a, b) => a * b, 1);
      return { value: randomArray(size, 200 + i, offset, 0.5), grad: new Float32Array(size), shape };
    });
    const before = params.map((p) => unitMeans(p.value, p.shape, layout));
    const bound = params.map(() => 0);
    const opt = new Lookahead(make(params, gc, layout) as Adam, { k: K, alpha: ALPHA });
    for (let t = 1; t <= STEPS; t++) {
      params.forEach((p, i) => p.grad.set(randomArray(p.grad.length, t * 13 + i, 0.5, 1)));
      const previous = params.map((p) => p.value.slice());
      const slow = t % K === 0 ? (opt.stateDict().slow as Float32Array[]) : undefined;
      opt.step();
      params.forEach((p, i) => {
        if (!slow) {
          bound[i] += U * (Math.max(maxAbs(previous[i]), maxAbs(p.value)) + D * maxDiff(p.value, previous[i]));
          return;
        }
        const fast = slow[i].map((s, j) => s + (p.value[j] - s) / ALPHA);
        bound[i] += U * (Math.max(maxAbs(previous[i]), maxAbs(fast)) + D * maxDiff(fast, previous[i]));
        bound[i] += U * (maxAbs(p.value) + 2 * ALPHA * maxDiff(fast, slow[i]));
      });
    }
    opt.dispose();
    let ratio = 0;
    let worst = 0;
    let scale = 0;
    params.forEach((p, i) => {
      unitMeans(p.value, p.shape, layout).forEach((m, u) => {
        worst = Math.max(worst, Math.abs(m - before[i][u]));
        ratio = Math.max(ratio, Math.abs(m - before[i][u]) / bound[i]);
      });
      scale = Math.max(scale, maxAbs(p.value));
    });
    return { ratio, worst, scale };
  }

  /** Name, inner optimizer, and D of its drift bound (as optim-invariant's). */
  const makers: [string, MakeInner, number][] = [
    ["Adam", (p, gc, layout) => new Adam(p, { lr: 0.01, gc, layout }), 4],
    ["AdamW", (p, gc, layout) => new AdamW(p, { lr: 0.01, weightDecay: 0.1, gc, layout }), 4],
    ["SGD nesterov", (p, gc, layout) => new SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true, gc, layout }), (4 * 2) / (1 - 0.9)],
  ];
  for (const [name, make, D] of makers) {
    for (const layout of ["out-first", "out-last"] as Layout[]) {
      test(`Lookahead(${name}), ${layout}: 100 steps, 20 synchronizations, within the drift bound`, () => {
        for (const offset of [0, 3]) expect(drift(make, D, "update", layout, offset).ratio).toBeLessThanOrEqual(1);
      });
    }
  }
  test('with gc "gradient", Lookahead(Adam) moves the means (what "update" prevents)', () => {
    for (const layout of ["out-first", "out-last"] as Layout[]) {
      const { worst, scale } = drift(makers[0][1], 4, "gradient", layout, 0);
      expect(worst).toBeGreaterThan(1e4 * U * scale);
    }
  });
});

type Make = (params: Param[]) => { step(): void; dispose(): void; stateDict(options?: { json?: boolean }): unknown; loadStateDict(state: never): void };

const KINDS: [string, Make][] = [
  ["Lookahead(SGD nesterov, update), k 5", (p) => new Lookahead(new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, gc: "update" }), { k: 5 })],
  ["Lookahead(Adam amsgrad, out-last), k 3, alpha 0.7", (p) => new Lookahead(new Adam(p, { lr: 0.01, amsgrad: true, layout: "out-last" }), { k: 3, alpha: 0.7 })],
];

test.each(KINDS)("%s: resuming from stateDict() between synchronizations is bit-identical, also through JSON", (_, make) => {
  const grads = gradientSequence(20, 53);
  const model = makeModel(53);
  const opt = make(model.params);
  let checkpoint: { weights: Float32Array[]; plain: unknown; json: string } | undefined;
  grads.forEach((g, t) => {
    if (t === 7) checkpoint = { weights: model.values(), plain: opt.stateDict(), json: JSON.stringify(opt.stateDict({ json: true })) };
    model.setGrads(g);
    opt.step();
  });
  const uninterrupted = bits(model.values());
  const resume = (state: unknown) => resumeBits(make, checkpoint!.weights, state, grads.slice(7));
  expect(resume(checkpoint!.plain)).toEqual(uninterrupted);
  expect(resume(JSON.parse(checkpoint!.json))).toEqual(uninterrupted);
  expect(resume(undefined)).not.toEqual(uninterrupted); // slow weights and counter matter
  const dict = checkpoint!.plain as LookaheadStateDict;
  expect(dict.step).toBe(7);
  expect(dict.inner.step).toBe(7);
  opt.dispose();
  model.dispose();
});

test("paramGroups, lr (a schedule too), zeroGrad and the step count pass through to the inner optimizer", () => {
  const model = makeModel(54);
  const inner = new Adam(model.params, { lr: 0.01 });
  const opt = new Lookahead(inner);
  expect([opt.k, opt.alpha]).toEqual([5, 0.5]);
  expect(opt.paramGroups).toBe(inner.paramGroups);
  opt.lr = 0.02;
  expect(inner.lr).toBe(0.02);
  const seen: number[] = [];
  opt.lr = (t) => (seen.push(t), 0.01);
  model.setGrads(gradientSequence(1, 54)[0]);
  opt.step();
  opt.step();
  expect(seen).toEqual([0, 1]);
  opt.zeroGrad();
  for (const p of model.params) expect(Array.from(p.grad instanceof Tensor ? p.grad.data : p.grad).every((x) => x === 0)).toBe(true);
  opt.k = 2;
  opt.alpha = 0.25;
  expect(opt.stateDict()).toMatchObject({ optimizer: "Lookahead", k: 2, alpha: 0.25, step: 2 });
  opt.dispose();
  model.dispose();
});

test("dispose frees the slow weights and the inner optimizer's state; then every member refuses by name", () => {
  const model = makeModel(55);
  const { memory } = runtime("test");
  model.setGrads(gradientSequence(1, 55)[0]);
  const warmup = new SGD(model.params, { lr: 0, momentum: 0.9 });
  warmup.step(); // sizes the staging block, which stays for later calls
  warmup.dispose();
  const before = memory.allocatedBytes;
  const inner = new SGD(model.params, { lr: 0.1, momentum: 0.9 });
  const opt = new Lookahead(inner);
  opt.step();
  expect(memory.allocatedBytes).toBeGreaterThan(before);
  opt.dispose();
  opt.dispose();
  expect(inner.disposed).toBe(true);
  expect(opt.disposed).toBe(true);
  expect(memory.allocatedBytes).toBe(before);
  for (const call of [() => opt.step(), () => opt.zeroGrad(), () => opt.stateDict(), () => opt.paramGroups, () => opt.lr]) {
    expect(call).toThrow(/^Lookahead\.\w+: the optimizer has been disposed/);
  }
  model.dispose();
});

describe("bad arguments", () => {
  test("the constructor names the argument", () => {
    const model = makeModel(56);
    const cases: [() => unknown, ErrorConstructor, RegExp][] = [
      [() => new Lookahead({} as never), TypeError, /^new Lookahead: inner must be an optimizer of this package/],
      [() => new Lookahead(new Adam(model.params), { k: 0 }), RangeError, /^new Lookahead: options\.k must be an integer ≥ 1, got 0/],
      [() => new Lookahead(new Adam(model.params), { k: 2.5 }), RangeError, /^new Lookahead: options\.k must be an integer ≥ 1/],
      [() => new Lookahead(new Adam(model.params), { k: "5" as never }), TypeError, /^new Lookahead: options\.k must be a number, got string/],
      [() => new Lookahead(new Adam(model.params), { alpha: 1.5 }), RangeError, /^new Lookahead: options\.alpha must be in \[0, 1\], got 1\.5/],
      [() => new Lookahead(new Adam(model.params), { alpha: NaN }), RangeError, /^new Lookahead: options\.alpha must be in \[0, 1\]/],
      [() => new Lookahead(new Adam(model.params), { steps: 5 } as never), TypeError, /^new Lookahead: options\.steps is not an option \(known: k, alpha\)/],
    ];
    for (const [call, type, message] of cases) {
      expect(call).toThrow(type);
      expect(call).toThrow(message);
    }
    const disposed = new Adam(model.params);
    disposed.dispose();
    expect(() => new Lookahead(disposed)).toThrow(/^new Lookahead: inner has been disposed/);
    const once = new Lookahead(new Adam(model.params));
    expect(() => new Lookahead(once.inner)).toThrow(/^new Lookahead: inner is already wrapped by a Lookahead/);
    expect(() => new Lookahead(once as never)).toThrow(/inner must be an optimizer of this package/);
    expect(() => (once.k = 0)).toThrow(/^Lookahead\.k: k must be an integer ≥ 1/);
    expect(() => (once.alpha = -1)).toThrow(/^Lookahead\.alpha: alpha must be in \[0, 1\]/);
    once.dispose();
    model.dispose();
  });

  test("a step whose inner step fails changes nothing, the step count included", () => {
    const model = makeModel(57);
    const opt = new Lookahead(new Adam(model.params), { k: 1 });
    model.setGrads(gradientSequence(1, 57)[0]);
    opt.step();
    const before = { values: bits(model.values()), state: opt.stateDict() };
    (model.params[1] as Param).grad = new Float32Array(3);
    expect(() => opt.step()).toThrow(/^Adam\.step: params\[1\]\.grad has 3 values, expected 30/);
    expect({ values: bits(model.values()), state: opt.stateDict() }).toEqual(before);
    opt.dispose();
    model.dispose();
  });

  describe("loadStateDict with a bad checkpoint changes nothing", () => {
    const cases: [string, (s: Record<string, any>) => unknown, ErrorConstructor, RegExp][] = [
      ["another optimizer's", (s) => ({ ...s, optimizer: "Ranger" }), TypeError, /^Lookahead\.loadStateDict: state\.optimizer is "Ranger", expected "Lookahead"/],
      ["a bad k", (s) => ({ ...s, k: 0 }), RangeError, /^Lookahead\.loadStateDict: state\.k must be an integer ≥ 1/],
      ["a bad alpha", (s) => ({ ...s, alpha: 2 }), RangeError, /^Lookahead\.loadStateDict: state\.alpha must be in \[0, 1\]/],
      ["a bad step", (s) => ({ ...s, step: -1 }), RangeError, /^Lookahead\.loadStateDict: state\.step must be a non-negative integer/],
      ["a missing slow buffer", (s) => ({ ...s, slow: s.slow.slice(1) }), RangeError, /^Lookahead\.loadStateDict: state\.slow must list 7 buffer\(s\)/],
      ["a slow buffer of the wrong size", (s) => ({ ...s, slow: s.slow.map((b: Float32Array, i: number) => (i === 3 ? new Float32Array(2) : b)) }), RangeError, /^Lookahead\.loadStateDict: state\.slow\[3\] has 2 values, expected 108/],
      ["a corrupt inner checkpoint", (s) => ({ ...s, inner: { ...s.inner, paramGroups: [{ ...s.inner.paramGroups[0], lr: -1 }] } }), RangeError, /^Lookahead\.loadStateDict: state\.inner is refused: Adam\.loadStateDict: state\.paramGroups\[0\]\.lr/],
      ["no inner checkpoint", (s) => ({ ...s, inner: undefined }), TypeError, /^Lookahead\.loadStateDict: state\.inner is refused: Adam\.loadStateDict: state must be an object/],
      ["not an object", () => 5, TypeError, /^Lookahead\.loadStateDict: state must be an object, got number/],
    ];
    test.each(cases)("%s", (_, corrupt, type, message) => {
      const model = makeModel(58);
      const opt = new Lookahead(new Adam(model.params, { amsgrad: true }), { k: 2 });
      for (const g of gradientSequence(3, 58)) {
        model.setGrads(g);
        opt.step();
      }
      const before = { values: bits(model.values()), state: opt.stateDict() };
      const bad = corrupt(opt.stateDict());
      expect(() => opt.loadStateDict(bad as never)).toThrow(type);
      expect(() => opt.loadStateDict(bad as never)).toThrow(message);
      expect({ values: bits(model.values()), state: opt.stateDict() }).toEqual(before);
      opt.dispose();
      model.dispose();
    });
  });
});

test("addParamGroup adds slow weights for the new parameters (their weights now); a group added to the inner optimizer directly is refused by step", () => {
  const model = makeModel(59);
  const p = model.params;
  const opt = new Lookahead(new SGD(p.slice(0, 4), { lr: 0.05 }), { k: 2, alpha: 0.5 });
  const reference = new LookaheadReference(new SgdReference(referenceParams(model).slice(0, 4)), 2, 0.5);
  const settings: SgdSettings = { ...SGD_BASE };
  const grads = gradientSequence(6, 59);
  for (const g of grads.slice(0, 3)) {
    model.setGrads(g);
    opt.step();
    reference.step(g.slice(0, 4), SHAPES.slice(0, 4).map(() => settings));
  }
  opt.addParamGroup({ params: p.slice(4) });
  // the reference: a second Lookahead over the new parameters from here, counting on from step 3
  const late = new LookaheadReference(new SgdReference(referenceParams(model).slice(4)), 2, 0.5);
  late.steps = 3;
  for (const g of grads.slice(3)) {
    model.setGrads(g);
    expect(opt.step(() => 7)).toBe(7); // step(closure) returns what the closure returned
    reference.step(g.slice(0, 4), SHAPES.slice(0, 4).map(() => settings));
    late.step(g.slice(4), SHAPES.slice(4).map(() => settings));
  }
  expect(trajectoryError(model.values(), [...reference.params, ...late.params], 6)).toBeLessThanOrEqual(1);
  expect((opt.stateDict().slow as Float32Array[]).length).toBe(7);
  const extra = new Tensor([2, 2]);
  opt.inner.addParamGroup({ params: [{ value: extra, grad: new Tensor([2, 2]) }] });
  const before = bits(model.values());
  expect(() => opt.step()).toThrow(/^Lookahead\.step: the inner optimizer has 8 parameters and 7 slow weights: add groups through Lookahead\.addParamGroup/);
  expect(bits(model.values())).toEqual(before);
  opt.dispose();
  model.dispose();
});
