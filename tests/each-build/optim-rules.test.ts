// RAdam, NAdam, Adamax, Adagrad, Adadelta, RMSprop and Lion against their float64 references
// (torch.optim's documented algorithms; Lion: the paper's), over 20 steps, every gc mode, both
// layouts, each rule's options, convOnly and per-parameter gc: false.
import { describe, expect, test } from "vitest";
import { Tensor } from "../../src/index.js";
import type { GcMode } from "../optim-oracle.js";
import { compareTrajectory, gradientSequence, makeModel, referenceParams, SHAPES } from "../optim-fixtures.js";
import { type Options, RULES, type RuleCase, settingsOf } from "../optim-rules.js";
import type { Layout } from "../oracle.js";
import { maxAbsDiff } from "../oracle.js";
import { randomArray } from "../random.js";

const STEPS = 20;

/** Runs a rule and its reference for `steps` steps; returns the worst tolerance ratio and the weights. */
export function trajectory(rule: RuleCase, options: Options, gcOff: number[] = [], steps = STEPS, seed = 5) {
  const model = makeModel(seed, SHAPES, gcOff);
  const reference = rule.reference(referenceParams(model));
  const opt = rule.make(model.params, options);
  return compareTrajectory(model, opt, reference, settingsOf(rule, options), steps, seed);
}

describe.each(RULES)("$name", (rule) => {
  describe.each(["gradient", "update", false] as GcMode[])("gc %s", (gc) => {
    describe.each(["out-first", "out-last"] as Layout[])("%s", (layout) => {
      test.each(rule.variants)("%s: 20 steps match the float64 reference", (_, options) => {
        expect(trajectory(rule, { ...options, gc, layout }).error).toBeLessThanOrEqual(1);
      });
    });
  });

  test("convOnly centralizes only the rank-4 parameters", () => {
    const options = rule.variants[rule.variants.length - 1][1];
    for (const layout of ["out-first", "out-last"] as Layout[]) {
      for (const gc of ["gradient", "update"] as GcMode[]) {
        expect(trajectory(rule, { ...options, convOnly: true, layout, gc }).error).toBeLessThanOrEqual(1);
      }
    }
  });

  test("parameters with gc: false are stepped without GC", () => {
    const options = rule.variants[rule.variants.length - 1][1];
    for (const gc of ["gradient", "update"] as GcMode[]) {
      expect(trajectory(rule, { ...options, gc }, [1, 3]).error).toBeLessThanOrEqual(1);
    }
  });

  test('"gradient", "update" and off differ on parameters of rank > 1 and agree on rank ≤ 1', () => {
    const options = rule.variants[rule.variants.length - 1][1];
    const runs = (["gradient", "update", false] as GcMode[]).map((gc) => trajectory(rule, { ...options, gc }).values);
    for (let i = 0; i < SHAPES.length; i++) {
      const spread = Math.max(maxAbsDiff(runs[0][i], runs[1][i]), maxAbsDiff(runs[0][i], runs[2][i]), maxAbsDiff(runs[1][i], runs[2][i]));
      if (SHAPES[i].length > 1) expect(spread).toBeGreaterThan(1e-4);
      else expect(spread).toBe(0);
    }
  });

  test("defaults are torch's, with gc \"gradient\", out-first", () => {
    const opt = rule.make([{ value: new Tensor([3, 2]), grad: new Tensor([3, 2]) }]);
    expect({ ...opt.paramGroups[0], params: undefined }).toEqual({
      ...rule.defaults, gc: "gradient", convOnly: false, layout: "out-first", params: undefined,
    });
    opt.dispose();
  });
});

const ruleNamed = (name: string) => RULES.find((r) => r.name === name)!;

test("RAdam's un-rectified steps leave the first moment as the moment (the official RAdam_GC aliases it and adds decay and GC into it)", () => {
  // t = 1..5 are un-rectified with the default betas (ρₜ ≤ 5); with L2 and GC on, m must still be
  // the moving average of the centered directions and w must move by −lr·m/(1 − β1ᵗ) exactly as the oracle says.
  const shape = [4, 6];
  const w0 = randomArray(24, 1, 0, 1);
  const w = Float32Array.from(w0);
  const g = new Float32Array(24);
  const opt = ruleNamed("RAdam").make([{ value: w, grad: g, shape }], { lr: 0.01, weightDecay: 0.1 });
  const reference = ruleNamed("RAdam").reference([{ value: Float64Array.from(w0), shape }]) as unknown as {
    params: { value: Float64Array }[]; state: Record<string, Float64Array>[]; step(g: Float32Array[], s: never[]): void;
  };
  const settings = settingsOf(ruleNamed("RAdam"), { lr: 0.01, weightDecay: 0.1 });
  for (let t = 0; t < 5; t++) {
    g.set(randomArray(24, 10 + t, 0.3, 1));
    opt.step();
    reference.step([g], [settings]);
  }
  const { expAvg } = (opt.stateDict() as { state: { expAvg: Float32Array }[] }).state[0];
  expect(maxAbsDiff(expAvg, reference.state[0].expAvg)).toBeLessThanOrEqual(5 * 2 ** -24 * Math.max(...reference.state[0].expAvg.map(Math.abs)));
  expect(maxAbsDiff(w, reference.params[0].value)).toBeLessThanOrEqual(10 * 2 ** -24);
  opt.dispose();
});

test("RAdam switches to the rectified step exactly when ρₜ > 5 (t = 6 with the default betas)", () => {
  // one value, gradient 1 every step: m and v are known in closed form, and the rectified step
  // (with its √(1 − β2ᵗ)/(√v + eps) and r) differs from −lr·m̂ by far more than rounding
  const w = new Float32Array([0]);
  const opt = ruleNamed("RAdam").make([{ value: w, grad: new Float32Array([1]), shape: [1] }], { lr: 1 });
  const steps: number[] = [];
  for (let t = 1; t <= 7; t++) {
    const before = w[0];
    opt.step();
    steps.push(w[0] - before);
  }
  opt.dispose();
  const [beta1, beta2] = [0.9, 0.999];
  const rhoInf = 2 / (1 - beta2) - 1;
  steps.forEach((step, i) => {
    const t = i + 1;
    const rho = rhoInf - (2 * t * beta2 ** t) / (1 - beta2 ** t);
    const mHat = 1; // m = 1 − β1ᵗ for g = 1
    const v = 1 - beta2 ** t;
    const r = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
    const expected = rho > 5 ? -mHat * r * (Math.sqrt(1 - beta2 ** t) / (Math.sqrt(v) + 1e-8)) : -mHat;
    expect(rho > 5).toBe(t >= 6);
    expect(Math.abs(step - expected)).toBeLessThanOrEqual(1e-5);
  });
  expect(Math.abs(steps[5] - steps[4])).toBeGreaterThan(0.5); // r ≈ 0.026 at t = 6
});

test("Lion: sign(0) = 0, so a zero gradient and zero momentum leave only the decoupled decay w·(1 − lr·wd)", () => {
  const w = new Float32Array([1, -2, 3, 0.5]);
  const opt = ruleNamed("Lion").make([{ value: w, grad: new Float32Array(4), shape: [4] }], { lr: 0.1, weightDecay: 0.5 });
  opt.step();
  opt.dispose();
  expect(Array.from(w)).toEqual([1, -2, 3, 0.5].map((x) => Math.fround(x * Math.fround(1 - 0.05))));
});

test("Adagrad's sum starts at initialAccumulatorValue and its lr decays as lr/(1 + (t − 1)·lrDecay)", () => {
  const w = new Float32Array([0, 0]);
  const g = new Float32Array([2, -1]);
  const opt = ruleNamed("Adagrad").make([{ value: w, grad: g, shape: [2] }], { lr: 1, initialAccumulatorValue: 5, lrDecay: 1 });
  opt.step(); // sum = 5 + g² = [9, 6]; Δ = −g/(√sum + 1e-10)
  expect(w[0]).toBeCloseTo(-2 / 3, 6);
  expect(w[1]).toBeCloseTo(1 / Math.sqrt(6), 6);
  opt.step(); // sum = [13, 7]; clr = 1/2
  expect(w[0]).toBeCloseTo(-2 / 3 - 0.5 * (2 / Math.sqrt(13)), 6);
  expect(w[1]).toBeCloseTo(1 / Math.sqrt(6) + 0.5 / Math.sqrt(7), 6);
  expect(Array.from((opt.stateDict() as { state: { sum: Float32Array }[] }).state[0].sum)).toEqual([13, 7]);
  opt.dispose();
});

describe("bad hyperparameters of the new rules: a TypeError or RangeError naming the option", () => {
  const p = () => [{ value: new Tensor([3, 4]), grad: new Tensor([3, 4]) }];
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ["RAdam beta1 = 1", () => ruleNamed("RAdam").make(p(), { betas: [1, 0.999] }), RangeError, /new RAdam: options\.betas\[0\]/],
    ["RAdam amsgrad (not an option)", () => ruleNamed("RAdam").make(p(), { amsgrad: true }), TypeError, /new RAdam: options\.amsgrad is not an option/],
    ["NAdam negative momentumDecay", () => ruleNamed("NAdam").make(p(), { momentumDecay: -1 }), RangeError, /new NAdam: options\.momentumDecay/],
    ["Adamax eps = 0", () => ruleNamed("Adamax").make(p(), { eps: 0 }), RangeError, /new Adamax: options\.eps/],
    ["Adagrad negative lrDecay", () => ruleNamed("Adagrad").make(p(), { lrDecay: -0.1 }), RangeError, /new Adagrad: options\.lrDecay/],
    ["Adagrad negative initialAccumulatorValue", () => ruleNamed("Adagrad").make(p(), { initialAccumulatorValue: -1 }), RangeError, /options\.initialAccumulatorValue/],
    ["Adadelta rho > 1", () => ruleNamed("Adadelta").make(p(), { rho: 1.5 }), RangeError, /new Adadelta: options\.rho must be in \[0, 1\]/],
    ["RMSprop alpha > 1", () => ruleNamed("RMSprop").make(p(), { alpha: 2 }), RangeError, /new RMSprop: options\.alpha/],
    ["RMSprop centered not a boolean", () => ruleNamed("RMSprop").make(p(), { centered: 1 }), TypeError, /new RMSprop: options\.centered/],
    ["RMSprop negative momentum", () => ruleNamed("RMSprop").make(p(), { momentum: -0.5 }), RangeError, /options\.momentum/],
    ["Lion eps (not an option)", () => ruleNamed("Lion").make(p(), { eps: 1e-8 }), TypeError, /new Lion: options\.eps is not an option/],
    ["Lion betas of length 3", () => ruleNamed("Lion").make(p(), { betas: [0.9, 0.99, 0.5] }), TypeError, /new Lion: options\.betas/],
    ["Lion gc \"both\"", () => ruleNamed("Lion").make(p(), { gc: "both" }), RangeError, /new Lion: options\.gc/],
  ];
  test.each(cases)("%s", (_, make, type, message) => {
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });

  test.each(RULES)("$name: a bad hyperparameter set between steps throws at step() and changes nothing", (rule) => {
    const model = makeModel(4);
    const opt = rule.make(model.params, rule.full);
    model.setGrads(gradientSequence(1, 4)[0]);
    opt.step();
    const weights = model.values();
    const state = JSON.stringify(opt.stateDict({ json: true }));
    (opt.paramGroups[0] as { lr: number }).lr = -1;
    expect(() => opt.step()).toThrow(new RegExp(`${rule.name}\\.step: paramGroups\\[0\\]\\.lr`));
    expect(model.values()).toEqual(weights);
    expect(JSON.stringify(opt.stateDict({ json: true }))).toBe(state.replace('"lr":' + String((rule.full.lr ?? rule.defaults.lr)), '"lr":-1'));
    opt.dispose();
    model.dispose();
  });
});
