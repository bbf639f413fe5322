// A function lr: called once per step with the number of steps before it, its value used for that
// step (against the float64 reference stepped with the same values), kept through checkpoints,
// and checked before anything is written.
import { expect, test } from "vitest";
import { Adam, SGD, Tensor, warmupCosineDecaySchedule } from "../../src/index.js";
import { AdamReference, type AdamSettings, SgdReference, type SgdSettings } from "../optim-oracle.js";
import { bits, gradientSequence, makeModel, type Model, referenceParams, SHAPES, trajectoryError } from "../optim-fixtures.js";

const ADAM: AdamSettings = {
  lr: 0, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false,
  gc: "gradient", convOnly: false, layout: "out-first", decoupled: false,
};

test("Adam with lr = t => 0.02·0.9ᵗ: called with 0, 1, 2, … once per step; matches the reference stepped with those values", () => {
  const model = makeModel(41);
  const calls: number[] = [];
  const lr = (t: number) => {
    calls.push(t);
    return 0.02 * 0.9 ** t;
  };
  const opt = new Adam(model.params, { lr });
  const reference = new AdamReference(referenceParams(model));
  gradientSequence(20, 41).forEach((g, t) => {
    model.setGrads(g);
    opt.step();
    reference.step(g, SHAPES.map(() => ({ ...ADAM, lr: 0.02 * 0.9 ** t })));
  });
  expect(calls).toEqual(Array.from({ length: 20 }, (_, t) => t));
  expect(trajectoryError(model.values(), reference.params, 20)).toBeLessThanOrEqual(1);
  expect(opt.lr).toBe(lr);
  opt.dispose();
  model.dispose();
});

test("groups: a schedule in one, a number in the other; the optimizer's lr setter takes a schedule too", () => {
  const model = makeModel(42);
  const p = model.params;
  const schedule = warmupCosineDecaySchedule({ initValue: 0, peakValue: 0.1, warmupSteps: 5, decaySteps: 20 });
  const opt = new SGD([{ params: p.slice(0, 4), lr: schedule }, { params: p.slice(4), lr: 0.03 }], { momentum: 0.9 });
  const reference = new SgdReference(referenceParams(model));
  const base: SgdSettings = { lr: 0, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, gc: "gradient", convOnly: false, layout: "out-first" };
  gradientSequence(20, 42).forEach((g, t) => {
    model.setGrads(g);
    opt.step();
    // the reference's own warmup-cosine: linear 0 → 0.1 over 5 steps, then cosine 0.1 → 0 over 15
    const scheduled = t < 5 ? (0.1 * t) / 5 : 0.1 * 0.5 * (1 + Math.cos((Math.PI * (t - 5)) / 15));
    reference.step(g, SHAPES.map((_, i) => ({ ...base, lr: i < 4 ? scheduled : 0.03 })));
  });
  expect(trajectoryError(model.values(), reference.params, 20)).toBeLessThanOrEqual(1);
  opt.dispose();
  model.dispose();

  const single = makeModel(43);
  const one = new SGD(single.params, { lr: 0.1 });
  const steps: number[] = [];
  one.step();
  one.lr = (t) => (steps.push(t), 0.05);
  one.step();
  one.step();
  expect(steps).toEqual([1, 2]); // the count goes on from the steps already taken
  one.dispose();
  single.dispose();
});

/** A checkpoint-resume run with lr = schedule; returns the bits of the weights. */
function run(model: Model, opt: Adam, grads: Float32Array[][]): number[][] {
  for (const g of grads) {
    model.setGrads(g);
    opt.step();
  }
  return bits(model.values());
}

test("a checkpoint stores the step count and lr null for a schedule; resuming with the same schedule is bit-identical", () => {
  const schedule = (t: number) => 0.01 / (1 + t);
  const grads = gradientSequence(20, 44);
  const model = makeModel(44);
  const opt = new Adam(model.params, { lr: schedule, gc: "update" });
  run(model, opt, grads.slice(0, 10));
  const weights = model.values();
  const plain = opt.stateDict();
  const json = JSON.parse(JSON.stringify(opt.stateDict({ json: true })));
  expect(plain.step).toBe(10);
  expect(plain.paramGroups[0].lr).toBeNull();
  const uninterrupted = run(model, opt, grads.slice(10));

  for (const checkpoint of [plain, json]) {
    const resumed = makeModel(99);
    resumed.params.forEach((p, i) => (p.value instanceof Tensor ? p.value.data : p.value).set(weights[i]));
    const seen: number[] = [];
    const again = new Adam(resumed.params, { lr: (t) => (seen.push(t), schedule(t)), gc: "update" });
    again.loadStateDict(checkpoint);
    expect(run(resumed, again, grads.slice(10))).toEqual(uninterrupted);
    expect(seen[0]).toBe(10);
    again.dispose();
    resumed.dispose();
  }
  // Without the step count (a checkpoint from before schedules), the parameters' step counts give it.
  const { step, ...older } = plain;
  expect(step).toBe(10);
  const resumed = makeModel(99);
  resumed.params.forEach((p, i) => (p.value instanceof Tensor ? p.value.data : p.value).set(weights[i]));
  const again = new Adam(resumed.params, { lr: schedule, gc: "update" });
  again.loadStateDict(older);
  expect(run(resumed, again, grads.slice(10))).toEqual(uninterrupted);
  again.dispose();
  resumed.dispose();
  opt.dispose();
  model.dispose();
});

test("a schedule's checkpoint does not load into an optimizer with a number lr (nothing changes); a number lr replaces a schedule", () => {
  const model = makeModel(45);
  const scheduled = new Adam(model.params, { lr: () => 0.01 });
  model.setGrads(gradientSequence(1, 45)[0]);
  scheduled.step();
  const checkpoint = scheduled.stateDict();
  scheduled.dispose();
  const plain = new Adam(model.params, { lr: 0.01 });
  const before = plain.stateDict();
  expect(() => plain.loadStateDict(checkpoint)).toThrow(TypeError);
  expect(() => plain.loadStateDict(checkpoint)).toThrow(/^Adam\.loadStateDict: state\.paramGroups\[0\]\.lr is null \(a schedule\), but paramGroups\[0\]\.lr is not a function/);
  expect(plain.stateDict()).toEqual(before);
  const withSchedule = new Adam(model.params, { lr: () => 0.5 });
  withSchedule.loadStateDict(before);
  expect(withSchedule.lr).toBe(0.01);
  plain.dispose();
  withSchedule.dispose();
  model.dispose();
});

test.each([
  ["NaN", NaN, RangeError, /^Adam\.step: paramGroups\[0\]\.lr\(3\) must be a finite number ≥ 0, got NaN/],
  ["negative", -1e-3, RangeError, /^Adam\.step: paramGroups\[0\]\.lr\(3\) must be a finite number ≥ 0, got -0\.001/],
  ["a string", "0.1", TypeError, /^Adam\.step: paramGroups\[0\]\.lr\(3\) must be a number, got string/],
  ["beyond float32", 1e39, RangeError, /^Adam\.step: paramGroups\[0\]\.lr\(3\) must be a finite number ≥ 0 in float32, as the kernels compute, got 1e\+39, which is Infinity in float32/],
] as const)("a schedule returning %s at step 3 throws before anything is written; the next step is still step 3", (_, bad, type, message) => {
  const model = makeModel(46);
  let broken = true;
  const seen: number[] = [];
  const opt = new Adam(model.params, { lr: (t) => (seen.push(t), t === 3 && broken ? (bad as number) : 0.01) });
  const grads = gradientSequence(4, 46);
  for (const g of grads.slice(0, 3)) {
    model.setGrads(g);
    opt.step();
  }
  model.setGrads(grads[3]);
  const before = { values: bits(model.values()), state: opt.stateDict() };
  expect(() => opt.step()).toThrow(type);
  expect(() => opt.step()).toThrow(message);
  expect({ values: bits(model.values()), state: opt.stateDict() }).toEqual(before);
  broken = false;
  opt.step();
  expect(seen.slice(-1)).toEqual([3]);
  expect(opt.stateDict().step).toBe(4);
  opt.dispose();
  model.dispose();
});

test("a schedule that throws: its error propagates and nothing is written", () => {
  const model = makeModel(47);
  const opt = new SGD(model.params, { lr: () => { throw new Error("no lr today"); }, momentum: 0.9 });
  model.setGrads(gradientSequence(1, 47)[0]);
  const before = { values: bits(model.values()), state: opt.stateDict() };
  expect(() => opt.step()).toThrow("no lr today");
  expect({ values: bits(model.values()), state: opt.stateDict() }).toEqual(before);
  opt.dispose();
  model.dispose();
});
