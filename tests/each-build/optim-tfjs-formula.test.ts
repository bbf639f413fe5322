// `formula: "tfjs"` (Adam, AdamW, Adamax, Adagrad, Adadelta, RMSprop) against the float64 references of
// tf.train's formulas (tests/optim-oracle.ts, written from the TF.js source), over 20 steps, every
// gc mode, three layouts (both ends and { unitAxis: -2 }); the checkpoint keeps the formula; bad values are refused by name before
// anything changes. (tests/tfjs-formula.test.ts runs the real tf.train against the same kernels.)
import { describe, expect, test } from "vitest";
import { Adadelta, Adagrad, Adam, Adamax, AdamW, RMSprop, Tensor } from "../../src/index.js";
import type { Param } from "../../src/index.js";
import {
  AdadeltaReference, AdagradReference, AdamaxReference, AdamReference, type GcMode, type ReferenceParam, RMSpropReference,
  TfjsAdadeltaReference, TfjsAdagradReference, TfjsAdamaxReference, TfjsAdamReference, TfjsAdamWReference, TfjsRMSpropReference,
} from "../optim-oracle.js";
import { bits, compareTrajectory, gradientSequence, makeModel, referenceParams, resumeBits, resumeFromMidway, SHAPES } from "../optim-fixtures.js";
import type { Layout } from "../oracle.js";

type Options = Record<string, unknown>;

interface FormulaCase {
  name: string;
  make(params: Param[], options: Options): { step(): void; dispose(): void; stateDict(o?: { json?: boolean }): unknown; loadStateDict(s: never): void; paramGroups: readonly object[] };
  /** The rule's defaults as the references read them (the optimizer's own, without GC's). */
  defaults: Options;
  tfjs(params: ReferenceParam[]): { params: ReferenceParam[]; step(grads: ArrayLike<number>[], settings: never[]): void };
  torch(params: ReferenceParam[]): { params: ReferenceParam[]; step(grads: ArrayLike<number>[], settings: never[]): void };
  /** Hyperparameters with formula "tfjs"; each runs every gc mode and layout. eps is large enough that the formulas differ. */
  variants: [string, Options][];
}

const CASES: FormulaCase[] = [
  {
    name: "Adagrad",
    make: (p, o) => new Adagrad(p, o),
    defaults: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 },
    tfjs: (p) => new TfjsAdagradReference(p),
    torch: (p) => new AdagradReference(p),
    variants: [
      ["tf.train.adagrad(0.05)'s defaults but eps 0.1", { lr: 0.05, initialAccumulatorValue: 0.1, eps: 0.1 }],
      ["L2, lrDecay 0.1, eps 0.5", { lr: 0.05, weightDecay: 0.05, lrDecay: 0.1, initialAccumulatorValue: 0.5, eps: 0.5 }],
    ],
  },
  {
    name: "RMSprop",
    make: (p, o) => new RMSprop(p, o),
    defaults: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false },
    tfjs: (p) => new TfjsRMSpropReference(p),
    torch: (p) => new RMSpropReference(p),
    variants: [
      ["decay 0.9, eps 0.01", { alpha: 0.9, eps: 0.01 }],
      ["momentum 0.9, L2, eps 0.01", { alpha: 0.9, momentum: 0.9, weightDecay: 0.05, lr: 1e-3, eps: 0.01 }],
      ["centered, eps 1e-10 (TF.js subtracts it under the root)", { alpha: 0.9, centered: true, eps: 1e-10 }],
      ["centered, momentum 0.5, L2, eps 1e-10", { alpha: 0.9, centered: true, momentum: 0.5, weightDecay: 0.05, eps: 1e-10 }],
    ],
  },
  {
    name: "Adamax",
    make: (p, o) => new Adamax(p, o),
    defaults: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, lrDecay: 0 },
    tfjs: (p) => new TfjsAdamaxReference(p),
    torch: (p) => new AdamaxReference(p),
    variants: [
      ["lr 0.01, eps 0.1", { lr: 0.01, eps: 0.1 }],
      ["L2, betas [0.5, 0.9], lrDecay 0.1, eps 0.5", { lr: 0.01, weightDecay: 0.05, betas: [0.5, 0.9], lrDecay: 0.1, eps: 0.5 }],
    ],
  },
  {
    name: "Adadelta",
    make: (p, o) => new Adadelta(p, o),
    defaults: { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0 },
    tfjs: (p) => new TfjsAdadeltaReference(p),
    torch: (p) => new AdadeltaReference(p),
    variants: [
      ["tf.train.adadelta(0.1)'s rho 0.95, eps 1e-7", { lr: 0.1, rho: 0.95, eps: 1e-7 }],
      ["L2, rho 0.5, eps 1e-3", { lr: 0.5, weightDecay: 0.05, rho: 0.5, eps: 1e-3 }],
    ],
  },
  {
    name: "Adam",
    make: (p, o) => new Adam(p, o),
    defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, decoupled: false },
    tfjs: (p) => new TfjsAdamReference(p),
    torch: (p) => new AdamReference(p),
    variants: [
      ["lr 0.01, eps 1e-7", { lr: 0.01, eps: 1e-7 }],
      ["L2, betas [0.8, 0.99], eps 0.1", { lr: 0.01, weightDecay: 0.05, betas: [0.8, 0.99], eps: 0.1 }],
    ],
  },
  {
    // TF.js has no AdamW: Adam's rule with tf.train.adam's step and torch's decoupled decay
    name: "AdamW",
    make: (p, o) => new AdamW(p, o),
    defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, decoupled: true },
    tfjs: (p) => new TfjsAdamWReference(p),
    torch: (p) => new AdamReference(p),
    variants: [
      ["lr 0.01, eps 1e-7", { lr: 0.01, eps: 1e-7 }],
      ["decay 0.5, betas [0.8, 0.99], eps 0.1", { lr: 0.01, weightDecay: 0.5, betas: [0.8, 0.99], eps: 0.1 }],
    ],
  },
];

const STEPS = 20;
const GC_DEFAULTS = { gc: "gradient", convOnly: false, layout: "out-first" };

/** 20 steps of the optimizer with `options` (formula "tfjs" added) against `reference`; the worst tolerance ratio. */
function trajectory(c: FormulaCase, options: Options, reference: FormulaCase["tfjs"], gcOff: number[] = []) {
  const model = makeModel(5, SHAPES, gcOff);
  const ref = reference(referenceParams(model));
  const opt = c.make(model.params, { ...options, formula: "tfjs" });
  return compareTrajectory(model, opt, ref, { ...c.defaults, ...GC_DEFAULTS, ...options } as never, STEPS, 5);
}

describe.each(CASES)("$name with formula \"tfjs\"", (c) => {
  describe.each(["gradient", "update", false] as GcMode[])("gc %s", (gc) => {
    describe.each([["out-first", "out-first"], ["out-last", "out-last"], ["{ unitAxis: -2 }", { unitAxis: -2 }]] as [string, Layout][])("%s", (_, layout) => {
      test.each(c.variants)("%s: 20 steps match tf.train's formula (float64 reference)", (_, options) => {
        expect(trajectory(c, { ...options, gc, layout }, c.tfjs).error).toBeLessThanOrEqual(1);
      });
    });
  });

  test("convOnly and per-parameter gc: false still hold", () => {
    const options = c.variants[c.variants.length - 1][1];
    for (const gc of ["gradient", "update"] as GcMode[]) {
      expect(trajectory(c, { ...options, gc, convOnly: true }, c.tfjs).error).toBeLessThanOrEqual(1);
      expect(trajectory(c, { ...options, gc }, c.tfjs, [1, 3]).error).toBeLessThanOrEqual(1);
    }
  });

  test("the formula reaches the kernel: these runs are outside the tolerance of torch's formula", () => {
    for (const [, options] of c.variants) {
      // Adam's formulas agree but for βᵗ in float32, a difference far below the tolerance at lr ≤ 0.01
      if (c.name === "Adam" || c.name === "AdamW") continue;
      expect(trajectory(c, { ...options, gc: false }, c.torch).error).toBeGreaterThan(2);
    }
  });

  test("GC still does its job: gc \"update\" keeps every output unit's weight mean; \"gradient\" moves it (adaptive rules)", () => {
    const options = c.variants[c.variants.length - 1][1];
    const update = trajectory(c, { ...options, gc: "update" }, c.tfjs).values;
    const gradient = trajectory(c, { ...options, gc: "gradient" }, c.tfjs).values;
    const initial = makeModel(5).values();
    // [5, 6] out-first: 5 units of 6 weights
    const unitMeans = (w: Float32Array) => Array.from({ length: 5 }, (_, u) => w.subarray(6 * u, 6 * u + 6).reduce((a, b) => a + b, 0) / 6);
    const before = unitMeans(initial[1]);
    const moved = (w: Float32Array) => Math.max(...unitMeans(w).map((m, u) => Math.abs(m - before[u])));
    expect(moved(update[1])).toBeLessThanOrEqual(1e-6);
    // tf.train.adadelta's formula is SGD (see below): a centered d keeps the means too
    if (c.name === "Adadelta") expect(moved(gradient[1])).toBeLessThanOrEqual(1e-6);
    else expect(moved(gradient[1])).toBeGreaterThan(1e-4);
  });

  test("stateDict keeps formula \"tfjs\"; resuming from it (plain and JSON) is bit-identical to an uninterrupted run", () => {
    const options = { ...c.variants[c.variants.length - 1][1], formula: "tfjs" };
    const opt = c.make(makeModel(1).params, options);
    opt.step();
    const dict = opt.stateDict() as { paramGroups: { formula: unknown }[] };
    expect(dict.paramGroups[0].formula).toBe("tfjs");
    expect(JSON.parse(JSON.stringify(opt.stateDict({ json: true }))).paramGroups[0].formula).toBe("tfjs");
    opt.dispose();
    const { uninterrupted, plain, json, fresh } = resumeFromMidway((p) => c.make(p, options));
    expect(plain).toEqual(uninterrupted);
    expect(json).toEqual(uninterrupted);
    // the state matters (a fresh optimizer differs), except in tf.train.adadelta's formula, where it does not (see below)
    if (c.name === "Adadelta") expect(fresh).toEqual(uninterrupted);
    else expect(fresh).not.toEqual(uninterrupted);
  });

  test("loading a \"tfjs\" checkpoint into a \"torch\" optimizer restores the formula, as every hyperparameter", () => {
    const options = { ...c.variants[c.variants.length - 1][1], formula: "tfjs" };
    const grads = gradientSequence(6, 3);
    const model = makeModel(2);
    const opt = c.make(model.params, options);
    grads.slice(0, 3).forEach((g) => (model.setGrads(g), opt.step()));
    const weights = model.values();
    const checkpoint = opt.stateDict();
    grads.slice(3).forEach((g) => (model.setGrads(g), opt.step()));
    const uninterrupted = bits(model.values());
    const loadedIntoTorch = resumeBits((p) => {
      const o = c.make(p, { ...options, formula: "torch" });
      return o;
    }, weights, checkpoint, grads.slice(3));
    expect(loadedIntoTorch).toEqual(uninterrupted);
    const check = c.make(makeModel(2).params, { formula: "torch" });
    check.loadStateDict(checkpoint as never);
    expect((check.paramGroups[0] as { formula: unknown }).formula).toBe("tfjs");
    check.dispose();
    opt.dispose();
    model.dispose();
  });

  describe("bad values are refused by name, nothing changed", () => {
    const param = () => [{ value: new Tensor([3, 4]), grad: new Tensor([3, 4]) }];

    test("in the options: RangeError for another string, TypeError for another kind", () => {
      expect(() => c.make(param(), { formula: "pytorch" })).toThrow(RangeError);
      expect(() => c.make(param(), { formula: "pytorch" })).toThrow(new RegExp(`^new ${c.name}: options\\.formula must be "torch" or "tfjs", got "pytorch"`));
      expect(() => c.make(param(), { formula: "TFJS" })).toThrow(RangeError);
      expect(() => c.make(param(), { formula: true })).toThrow(TypeError);
      expect(() => c.make(param(), { formula: true })).toThrow(new RegExp(`^new ${c.name}: options\\.formula must be a string, got boolean true`));
      expect(() => c.make([{ params: param(), formula: null } as never], {})).toThrow(new RegExp(`^new ${c.name}: .*formula`));
    });

    test("set on a group: step throws naming paramGroups[0].formula and leaves weights and state unchanged", () => {
      const model = makeModel(4);
      const opt = c.make(model.params, { formula: "tfjs" });
      model.setGrads(gradientSequence(1, 4)[0]);
      opt.step();
      const before = { weights: bits(model.values()), state: JSON.stringify(opt.stateDict({ json: true })) };
      (opt.paramGroups[0] as { formula: unknown }).formula = "keras";
      expect(() => opt.step()).toThrow(new RegExp(`^${c.name}\\.step: paramGroups\\[0\\]\\.formula must be "torch" or "tfjs", got "keras"`));
      expect(bits(model.values())).toEqual(before.weights);
      (opt.paramGroups[0] as { formula: unknown }).formula = "tfjs";
      expect(JSON.stringify(opt.stateDict({ json: true }))).toBe(before.state);
      opt.dispose();
      model.dispose();
    });

    test("in a checkpoint: loadStateDict throws naming state.paramGroups[0].formula when it is wrong and changes nothing", () => {
      const model = makeModel(4);
      const opt = c.make(model.params, { formula: "tfjs" });
      model.setGrads(gradientSequence(1, 4)[0]);
      opt.step();
      const good = opt.stateDict({ json: true }) as { paramGroups: Record<string, unknown>[] };
      const other = c.make(makeModel(4).params, {});
      const before = JSON.stringify(other.stateDict({ json: true }));
      const wrong = JSON.parse(JSON.stringify(good));
      wrong.paramGroups[0].formula = "tf";
      expect(() => other.loadStateDict(wrong as never)).toThrow(RangeError);
      expect(() => other.loadStateDict(wrong as never)).toThrow(new RegExp(`^${c.name}\\.loadStateDict: state\\.paramGroups\\[0\\]\\.formula must be "torch" or "tfjs"`));
      expect(JSON.stringify(other.stateDict({ json: true }))).toBe(before);
      expect((other.paramGroups[0] as { formula: unknown }).formula).toBe("torch");
      other.dispose();
      opt.dispose();
      model.dispose();
    });

    test("a checkpoint written before formula existed (no formula, no lrDecay) loads as \"torch\" and continues as the torch run does, bit for bit", () => {
      const grads = gradientSequence(6, 4);
      const model = makeModel(4);
      const opt = c.make(model.params, {});
      grads.slice(0, 3).forEach((g) => (model.setGrads(g), opt.step()));
      const weights = model.values();
      const old = JSON.parse(JSON.stringify(opt.stateDict({ json: true }))) as { paramGroups: Record<string, unknown>[] };
      delete old.paramGroups[0].formula;
      delete old.paramGroups[0].lrDecay;
      grads.slice(3).forEach((g) => (model.setGrads(g), opt.step()));
      expect(resumeBits((p) => c.make(p, { formula: "tfjs" }), weights, old, grads.slice(3))).toEqual(bits(model.values()));
      const fresh = makeModel(4);
      const check = c.make(fresh.params, { formula: "tfjs" });
      check.loadStateDict(old as never);
      expect((check.paramGroups[0] as { formula: unknown }).formula).toBe("torch");
      check.dispose();
      fresh.dispose();
      opt.dispose();
      model.dispose();
    });
  });
});

test("RMSprop formula \"tfjs\" keeps the momentum buffer as tf.train.rmsprop does: lr·d/√(v + eps) summed with momentum, the last step itself with momentum 0", () => {
  const g = new Float32Array([0.5, -1]);
  // v = 0.1·g² at step 1: lr·g/√(0.1·g² + eps) = 0.1·sign(g)/√0.1 (eps negligible)
  const first = [0.1 / Math.sqrt(0.1), -0.1 / Math.sqrt(0.1)];
  for (const momentum of [0, 0.5]) {
    const w = new Float32Array([1, 2]);
    const opt = new RMSprop([{ value: w, grad: g, shape: [2] }], { lr: 0.1, alpha: 0.9, momentum, eps: 1e-7, formula: "tfjs" });
    opt.step();
    const state = () => (opt.stateDict() as unknown as { state: { momentumBuffer: Float32Array }[] }).state[0];
    expect(Array.from(state().momentumBuffer, (x) => Number(x.toFixed(5)))).toEqual(first.map((x) => Number(x.toFixed(5))));
    expect(w[0]).toBeCloseTo(1 - first[0], 5);
    opt.step();
    // v = 0.19·g²: the new contribution 0.1·sign(g)/√0.19, plus momentum times the old buffer
    const second = first.map((x) => momentum * x + (0.1 * Math.sign(x)) / Math.sqrt(0.19));
    expect(Array.from(state().momentumBuffer, (x) => Number(x.toFixed(5)))).toEqual(second.map((x) => Number(x.toFixed(5))));
    expect(w[0]).toBeCloseTo(1 - first[0] - second[0], 5);
    opt.dispose();
  }
  const torch = new RMSprop([{ value: new Float32Array([1, 2]), grad: g, shape: [2] }], { lr: 0.1 });
  torch.step();
  expect(Object.keys((torch.stateDict() as unknown as { state: object[] }).state[0]).sort()).toEqual(["squareAvg", "step"]);
  torch.dispose();
});

test("tf.train.adadelta's formula is SGD: with the old square average in δ, u and v get the same updates, so δ = d and w ← w − lr·d bit for bit", () => {
  // u₀ = v₀ = 0 → δ₁ = √eps/√eps·d = d → u₁ = v₁; by induction δ = d every step (TF.js 4.22)
  const model = makeModel(8);
  const opt = new Adadelta(model.params, { lr: 0.3, rho: 0.9, eps: 1e-6, weightDecay: 0.01, formula: "tfjs", gc: false });
  const expected = model.values();
  for (const g of gradientSequence(20, 8)) {
    model.setGrads(g);
    expected.forEach((w, i) => w.forEach((x, j) => (w[j] = Math.fround(x + Math.fround(Math.fround(-0.3) * Math.fround(g[i][j] + Math.fround(Math.fround(0.01) * x)))))));
    opt.step();
  }
  expect(bits(model.values())).toEqual(bits(expected));
  const { state } = opt.stateDict() as unknown as { state: { squareAvg: Float32Array; accDelta: Float32Array }[] };
  state.forEach((s) => expect(Array.from(s.accDelta)).toEqual(Array.from(s.squareAvg)));
  opt.dispose();
  model.dispose();
});
