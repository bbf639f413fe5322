// Bad hyperparameters and operands: a TypeError or RangeError naming the argument, thrown before
// anything is written (weights, gradients and optimizer state are left exactly as they were).
import { describe, expect, test } from "vitest";
import { Adam, AdamW, SGD, Tensor } from "../../src/index.js";
import type { Param } from "../../src/index.js";
import { gradientSequence, makeModel, type Model } from "../optim-fixtures.js";

const tensorParam = (shape: number[]): Param => ({ value: new Tensor(shape), grad: new Tensor(shape) });

describe("constructor arguments", () => {
  const p = () => [tensorParam([3, 4])];
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ["negative lr", () => new Adam(p(), { lr: -1e-3 }), RangeError, /options\.lr/],
    ["NaN lr", () => new SGD(p(), { lr: NaN }), RangeError, /options\.lr/],
    ["lr as a string", () => new SGD(p(), { lr: "0.1" as never }), TypeError, /options\.lr/],
    ["SGD without lr", () => new SGD(p()), TypeError, /options\.lr is required/],
    ["beta1 = 1", () => new Adam(p(), { betas: [1, 0.999] }), RangeError, /options\.betas\[0\]/],
    ["beta2 < 0", () => new AdamW(p(), { betas: [0.9, -0.1] }), RangeError, /options\.betas\[1\]/],
    ["betas of length 1", () => new Adam(p(), { betas: [0.9] as never }), TypeError, /options\.betas/],
    ["eps = 0", () => new Adam(p(), { eps: 0 }), RangeError, /options\.eps/],
    ["eps < 0", () => new AdamW(p(), { eps: -1e-8 }), RangeError, /options\.eps/],
    ["negative weightDecay", () => new AdamW(p(), { weightDecay: -0.1 }), RangeError, /options\.weightDecay/],
    ["negative momentum", () => new SGD(p(), { lr: 0.1, momentum: -0.9 }), RangeError, /options\.momentum/],
    ["dampening > 1", () => new SGD(p(), { lr: 0.1, momentum: 0.9, dampening: 2 }), RangeError, /options\.dampening/],
    ["nesterov without momentum", () => new SGD(p(), { lr: 0.1, nesterov: true }), RangeError, /options\.nesterov/],
    ["nesterov with dampening", () => new SGD(p(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), RangeError, /nesterov requires/],
    ["unknown option", () => new Adam(p(), { learningRate: 0.1 } as never), TypeError, /options\.learningRate is not an option/],
    ["SGD option on Adam", () => new Adam(p(), { momentum: 0.9 } as never), TypeError, /options\.momentum/],
    ["gc: true", () => new Adam(p(), { gc: true as never }), TypeError, /options\.gc/],
    ["gc: \"both\"", () => new Adam(p(), { gc: "both" as never }), RangeError, /options\.gc must be "gradient", "update" or false, got "both"/],
    ["bad layout", () => new Adam(p(), { layout: "rows" as never }), RangeError, /options\.layout/],
    ["group with a bad lr", () => new Adam([{ params: p(), lr: -1 }]), RangeError, /params\[0\]\.lr/],
    ["group with an unknown key", () => new Adam([{ params: p(), foo: 1 } as never]), TypeError, /params\[0\]\.foo/],
    ["params not an array", () => new Adam({} as never), TypeError, /params must be an array/],
    ["no params", () => new Adam([]), RangeError, /params is empty/],
    ["groups mixed with params", () => new Adam([tensorParam([2]), { params: p() }] as never), TypeError, /not a mix/],
    ["a param without grad", () => new Adam([{ value: new Tensor([2]) } as never]), TypeError, /params\[0\]/],
    ["an unknown param field", () => new Adam([{ ...tensorParam([2]), lr: 1 } as never]), TypeError, /params\[0\]\.lr is not a field/],
    ["mismatched Tensor shapes", () => new Adam([{ value: new Tensor([3, 4]), grad: new Tensor([4, 3]) }]), RangeError, /params\[0\]\.grad has shape \[4, 3\]/],
    ["grad of the wrong length", () => new Adam([{ value: new Float32Array(6), grad: new Float32Array(5), shape: [2, 3] }]), RangeError, /params\[0\]\.grad has 5 values/],
    ["value not matching its shape", () => new SGD([{ value: new Float32Array(6), grad: new Float32Array(6), shape: [2, 4] }], { lr: 1 }), RangeError, /params\[0\]\.value has 6 values, expected 8/],
    ["Float32Array value without shape", () => new Adam([{ value: new Float32Array(6), grad: new Float32Array(6) }]), TypeError, /params\[0\]\.shape is required/],
    ["shape differing from the Tensor's", () => new Adam([{ ...tensorParam([2, 3]), shape: [3, 2] }]), RangeError, /params\[0\]\.shape/],
    ["a number array value", () => new Adam([{ value: [1, 2] as never, grad: new Float32Array(2), shape: [2] }]), TypeError, /params\[0\]\.value must be a Tensor or a Float32Array/],
    ["the same value twice", () => { const q = tensorParam([2]); return new Adam([q, { ...q, grad: new Tensor([2]) }]); }, TypeError, /more than one parameter/],
    ["grad === value", () => { const v = new Float32Array(2); return new Adam([{ value: v, grad: v, shape: [2] }]); }, TypeError, /same array/],
    ["per-parameter gc not a boolean", () => new Adam([{ ...tensorParam([2, 2]), gc: "update" as never }]), TypeError, /params\[0\]\.gc/],
    ["a disposed value", () => { const q = tensorParam([2]); (q.value as Tensor).dispose(); return new Adam([q]); }, TypeError, /params\[0\]\.value is a disposed Tensor/],
  ];
  test.each(cases)("%s", (_, make, type, message) => {
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });
});

/** Everything a failed call must leave untouched. */
function snapshot(model: Model, opt: SGD | Adam | AdamW) {
  const view = (x: Tensor | Float32Array) => Float32Array.from(x instanceof Tensor ? x.data : x);
  return {
    values: model.values(),
    grads: model.params.map((p) => view(p.grad)),
    state: opt.stateDict(),
    groups: structuredClone(opt.paramGroups.map((g) => ({ ...g, params: g.params.length }))),
  };
}

type Break = (model: Model, opt: SGD | Adam | AdamW) => void;

/** A way to break a step; the last field lists the optimizers it applies to (all when absent). */
type StepCase = [string, Break, ErrorConstructor, RegExp, string[]?];

const ADAMS = ["Adam", "AdamW"]; // betas and eps are Adam's hyperparameters

const STEP_CASES: StepCase[] = [
  ["negative lr set on a group", (_, o) => (o.paramGroups[0].lr = -1), RangeError, /paramGroups\[0\]\.lr/],
  ["beta set to 1", (_, o) => ((o as Adam).paramGroups[0].betas = [0.9, 1]), RangeError, /paramGroups\[0\]\.betas\[1\]/, ADAMS],
  ["eps set to 0", (_, o) => ((o as Adam).paramGroups[0].eps = 0), RangeError, /paramGroups\[0\]\.eps/, ADAMS],
  ["gc set to an unknown mode", (_, o) => (o.paramGroups[0].gc = "weights" as never), RangeError, /paramGroups\[0\]\.gc/],
  ["a grad replaced by one of the wrong length", (m) => (m.params[3].grad = new Float32Array(5)), RangeError, /params\[3\]\.grad has 5 values/],
  ["a grad replaced by a Tensor of another shape", (m) => (m.params[2].grad = new Tensor([5, 12])), RangeError, /params\[2\]\.grad has shape \[5, 12\]/],
  ["a value replaced by a plain array", (m) => (m.params[5].value = [1, 2] as never), TypeError, /params\[5\]\.value must be/],
  ["the last grad Tensor disposed", (m) => (m.params[6].grad as Tensor).dispose(), TypeError, /params\[6\]\.grad is a disposed Tensor/],
  ["a param's gc set to a string", (m) => (m.params[1].gc = "no" as never), TypeError, /params\[1\]\.gc must be a boolean/],
];

const OPTIMIZERS: [string, (p: Param[]) => SGD | Adam | AdamW][] = [
  ["SGD", (p) => new SGD(p, { lr: 0.1, momentum: 0.9 })],
  ["Adam", (p) => new Adam(p, { amsgrad: true })],
  ["AdamW", (p) => new AdamW(p, { gc: "update", layout: "out-last" })],
];

describe.each(OPTIMIZERS)("%s.step with a bad argument changes nothing", (name, make) => {
  const cases = STEP_CASES.filter(([, , , , only]) => !only || only.includes(name));
  test.each(cases)("%s", (_, breakIt, type, message) => {
    for (const stepsBefore of [0, 3]) {
      const model = makeModel(12);
      const opt = make(model.params);
      const grads = gradientSequence(stepsBefore + 1, 12);
      for (let t = 0; t < stepsBefore; t++) {
        model.setGrads(grads[t]);
        opt.step();
      }
      model.setGrads(grads[stepsBefore]);
      // the step a good call would have taken, from a twin
      const twinModel = makeModel(12);
      const twin = make(twinModel.params);
      for (let t = 0; t <= stepsBefore; t++) {
        twinModel.setGrads(grads[t]);
        twin.step();
      }
      const saved = { params: [...model.params].map((p) => ({ ...p })), groups: opt.paramGroups.map((g) => ({ ...g })) };
      const before = snapshot(model, opt);
      breakIt(model, opt);
      const grads6 = model.params[6].grad;
      const disposedGrad = grads6 instanceof Tensor && grads6.disposed;
      expect(() => opt.step()).toThrow(type);
      expect(() => opt.step()).toThrow(message);
      if (disposedGrad) {
        // the values and the state are untouched (the disposed gradient cannot be read any more)
        const after = snapshot({ ...model, params: model.params.map((p, i) => (i === 6 ? { ...p, grad: new Float32Array(0) } : p)) }, opt);
        expect({ values: after.values, state: after.state }).toEqual({ values: before.values, state: before.state });
      }
      // put back what was broken (a disposed gradient as a new Tensor holding the same values);
      // then everything is as it was, and the next step is the one the twin took
      model.params.forEach((p, i) => {
        for (const key of Object.keys(p)) if (!(key in saved.params[i])) delete (p as Partial<Param>)[key as keyof Param];
        Object.assign(p, saved.params[i]);
        if (p.grad instanceof Tensor && p.grad.disposed) p.grad = Tensor.from(before.grads[i], p.grad.shape);
      });
      opt.paramGroups.forEach((g, i) => Object.assign(g, saved.groups[i]));
      expect(snapshot(model, opt)).toEqual(before);
      opt.step();
      expect(model.values()).toEqual(twinModel.values());
      opt.dispose();
      twin.dispose();
      model.dispose();
      twinModel.dispose();
    }
  });
});

test("the step cases limited to some optimizers name optimizers that exist", () => {
  const names = OPTIMIZERS.map(([name]) => name);
  for (const [, , , , only] of STEP_CASES) for (const name of only ?? []) expect(names).toContain(name);
});

describe("loadStateDict with a bad checkpoint changes nothing", () => {
  const cases: [string, (s: Record<string, any>) => unknown, ErrorConstructor, RegExp][] = [
    ["another optimizer's checkpoint", (s) => ({ ...s, optimizer: "AdamW" }), TypeError, /state\.optimizer/],
    ["a missing group", (s) => ({ ...s, paramGroups: [] }), RangeError, /state\.paramGroups/],
    ["a missing parameter", (s) => ({ ...s, state: s.state.slice(1) }), RangeError, /state\.state must list 7/],
    ["a bad lr", (s) => ({ ...s, paramGroups: [{ ...s.paramGroups[0], lr: -1 }] }), RangeError, /state\.paramGroups\[0\]\.lr/],
    ["a missing hyperparameter", (s) => { const { eps, ...g } = s.paramGroups[0]; return { ...s, paramGroups: [g] }; }, TypeError, /eps is missing/],
    ["wrong param indices", (s) => ({ ...s, paramGroups: [{ ...s.paramGroups[0], params: [1, 0, 2, 3, 4, 5, 6] }] }), RangeError, /params must be \[0, 1/],
    ["a negative step", (s) => ({ ...s, state: s.state.map((e: object, i: number) => (i === 2 ? { ...e, step: -1 } : e)) }), RangeError, /state\.state\[2\]\.step/],
    ["a buffer of the wrong size", (s) => ({ ...s, state: s.state.map((e: object, i: number) => (i === 4 ? { ...e, expAvg: new Float32Array(3) } : e)) }), RangeError, /state\.state\[4\]\.expAvg has 3 values, expected 54/],
    ["bad base64", (s) => ({ ...s, state: s.state.map((e: object, i: number) => (i === 1 ? { ...e, expAvgSq: "@@@" } : e)) }), TypeError, /state\.state\[1\]\.expAvgSq is not valid base64/],
    ["base64 of the wrong size", (s) => ({ ...s, state: s.state.map((e: object, i: number) => (i === 1 ? { ...e, expAvgSq: btoa("abcd") } : e)) }), RangeError, /holds 1 float32 values, expected 30/],
    ["an unknown buffer", (s) => ({ ...s, state: s.state.map((e: object, i: number) => (i === 0 ? { ...e, momentumBuffer: new Float32Array(7) } : e)) }), TypeError, /momentumBuffer is not a state buffer of Adam/],
    ["the plain form through JSON", (s) => JSON.parse(JSON.stringify(s)), TypeError, /base64 string \(stateDict\(\{ json: true \}\)\)/],
  ];
  test.each(cases)("%s", (_, corrupt, type, message) => {
    const model = makeModel(4);
    const opt = new Adam(model.params, { amsgrad: true });
    model.setGrads(gradientSequence(1, 4)[0]);
    opt.step();
    opt.step();
    const before = snapshot(model, opt);
    const bad = corrupt(opt.stateDict());
    expect(() => opt.loadStateDict(bad as never)).toThrow(type);
    expect(() => opt.loadStateDict(bad as never)).toThrow(message);
    expect(snapshot(model, opt)).toEqual(before);
    opt.dispose();
    model.dispose();
  });
});

test("stateDict and zeroGrad check their arguments and operands", () => {
  const model = makeModel(2);
  const opt = new SGD(model.params, { lr: 0.1 });
  expect(() => opt.stateDict({ format: "json" } as never)).toThrow(/options\.format is not an option/);
  expect(() => opt.stateDict({ json: 1 } as never)).toThrow(TypeError);
  model.setGrads(gradientSequence(1, 2)[0]);
  const before = snapshot(model, opt);
  (model.params[4].grad as Tensor).dispose();
  expect(() => opt.zeroGrad()).toThrow(/params\[4\]\.grad is a disposed Tensor/);
  (model.params[4] as Param).grad = new Tensor([6, 9]);
  (model.params[4].grad as Tensor).data.set(before.grads[4]);
  expect(snapshot(model, opt).grads).toEqual(before.grads); // nothing was zeroed
  opt.dispose();
  model.dispose();
});
