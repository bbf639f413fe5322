// Checkpoints, parameter groups, schedules, zeroGrad and dispose.
import { expect, test } from "vitest";
import { Adam, AdamW, SGD, Tensor } from "../../src/index.js";
import type { Optimizer, Param } from "../../src/index.js";
import { runtime } from "../../src/runtime.js";
import { AdamReference, type AdamSettings, SgdReference, type SgdSettings } from "../optim-oracle.js";
import { gradientSequence, makeModel, referenceParams, resumeFromMidway, SHAPES, trajectoryError } from "../optim-fixtures.js";

type Make = (params: Param[]) => Optimizer<never> | SGD | Adam | AdamW;

const KINDS: [string, Make][] = [
  ["SGD nesterov, L2, update", (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01, gc: "update" })],
  ["SGD momentum, dampening, out-last", (p) => new SGD(p, { lr: 0.05, momentum: 0.5, dampening: 0.3, layout: "out-last" })],
  ["Adam amsgrad, L2", (p) => new Adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.01 })],
  ["AdamW update, out-last", (p) => new AdamW(p, { lr: 0.01, gc: "update", layout: "out-last" })],
];

test.each(KINDS)("%s: resuming from stateDict() steps bit-identically, also through JSON", (_, make) => {
  const { uninterrupted, plain, json, fresh } = resumeFromMidway(make);
  expect(plain).toEqual(uninterrupted);
  expect(json).toEqual(uninterrupted);
  expect(fresh).not.toEqual(uninterrupted); // the state matters: a fresh optimizer differs
});

test("Adam's stateDict holds the moments and step counts of the float64 reference", () => {
  const model = makeModel(21);
  const reference = new AdamReference(referenceParams(model));
  const settings: AdamSettings = {
    lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true,
    gc: "gradient", convOnly: false, layout: "out-first", decoupled: false,
  };
  const opt = new Adam(model.params, { lr: 0.01, amsgrad: true });
  expect(opt.stateDict().state.every((s) => Object.keys(s).join() === "step" && s.step === 0)).toBe(true);
  for (const g of gradientSequence(20, 21)) {
    model.setGrads(g);
    opt.step();
    reference.step(g, SHAPES.map(() => settings));
  }
  const { state, paramGroups, optimizer } = opt.stateDict();
  expect(optimizer).toBe("Adam");
  const { decoupled, ...hyperparameters } = settings;
  expect(decoupled).toBe(false);
  expect(paramGroups).toEqual([{ ...hyperparameters, formula: "torch", params: [0, 1, 2, 3, 4, 5, 6] }]);
  const asParams = (name: "expAvg" | "expAvgSq" | "maxExpAvgSq") =>
    reference[name].map((value, i) => ({ value, shape: SHAPES[i] }));
  for (const name of ["expAvg", "expAvgSq", "maxExpAvgSq"] as const) {
    expect(trajectoryError(state.map((s) => s[name] as Float32Array), asParams(name), 20)).toBeLessThanOrEqual(1);
  }
  expect(state.map((s) => s.step)).toEqual(SHAPES.map(() => 20));
  opt.dispose();
  model.dispose();
});

test("SGD's momentum buffer appears with the first step that uses momentum", () => {
  const model = makeModel(3);
  const opt = new SGD(model.params, { lr: 0.1 });
  model.setGrads(gradientSequence(1, 3)[0]);
  opt.step();
  expect(Object.keys(opt.stateDict().state[0])).toEqual(["step"]);
  opt.paramGroups[0].momentum = 0.9;
  opt.step();
  const buffer = opt.stateDict().state[1].momentumBuffer as Float32Array;
  // the first momentum step sets buf = d (the centralized gradient, rank 2 here)
  const g = gradientSequence(1, 3)[0][1];
  const mean = (r: number) => g.slice(r * 6, r * 6 + 6).reduce((a, b) => a + b, 0) / 6;
  buffer.forEach((b, i) => expect(b).toBeCloseTo(g[i] - mean(Math.floor(i / 6)), 6));
  opt.dispose();
  model.dispose();
});

test("parameter groups with their own lr, gc and decay match the reference; lr schedules apply to the next step", () => {
  const model = makeModel(31);
  const p = model.params;
  const opt = new Adam(
    [
      { params: p.slice(0, 3), lr: 0.02 },
      { params: p.slice(3), lr: 0.005, gc: "update", weightDecay: 0.1, layout: "out-last" },
    ],
    { betas: [0.8, 0.99] },
  );
  const base = { betas: [0.8, 0.99] as [number, number], eps: 1e-8, amsgrad: false, convOnly: false, decoupled: false };
  const groupSettings: AdamSettings[] = [
    { ...base, lr: 0.02, weightDecay: 0, gc: "gradient", layout: "out-first" },
    { ...base, lr: 0.005, weightDecay: 0.1, gc: "update", layout: "out-last" },
  ];
  const reference = new AdamReference(referenceParams(model));
  gradientSequence(20, 31).forEach((g, t) => {
    if (t === 8) {
      opt.paramGroups[0].lr = 0.01;
      groupSettings[0] = { ...groupSettings[0], lr: 0.01 };
    }
    if (t === 12) {
      opt.paramGroups[1].lr = 0.001;
      opt.paramGroups[1].betas = [0.5, 0.9];
      groupSettings[1] = { ...groupSettings[1], lr: 0.001, betas: [0.5, 0.9] };
    }
    model.setGrads(g);
    opt.step();
    reference.step(g, SHAPES.map((_, i) => groupSettings[i < 3 ? 0 : 1]));
  });
  expect(trajectoryError(model.values(), reference.params, 20)).toBeLessThanOrEqual(1);
  expect(() => opt.lr).toThrow(TypeError);
  expect(() => (opt.lr = 0.1)).toThrow(/paramGroups\[i\]\.lr/);
  opt.dispose();
  model.dispose();
});

test("opt.lr sets a single group's learning rate for the next step", () => {
  const model = makeModel(41);
  const opt = new SGD(model.params, { lr: 0.1, momentum: 0.9 });
  const reference = new SgdReference(referenceParams(model));
  const settings: SgdSettings = { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, gc: "gradient", convOnly: false, layout: "out-first" };
  gradientSequence(20, 41).forEach((g, t) => {
    const lr = 0.1 * 0.9 ** t; // exponential decay
    opt.lr = lr;
    expect(opt.lr).toBe(lr);
    model.setGrads(g);
    opt.step();
    reference.step(g, SHAPES.map(() => ({ ...settings, lr })));
  });
  expect(trajectoryError(model.values(), reference.params, 20)).toBeLessThanOrEqual(1);
  expect(() => (opt.lr = -1)).toThrow(RangeError);
  expect(opt.lr).toBeCloseTo(0.1 * 0.9 ** 19, 12);
  opt.dispose();
  model.dispose();
});

test("loadStateDict restores the hyperparameters", () => {
  const model = makeModel(1);
  const a = new AdamW(model.params, { lr: 0.01, weightDecay: 0.2, amsgrad: true, gc: "update" });
  const b = new AdamW(model.params);
  b.loadStateDict(a.stateDict());
  expect(b.paramGroups[0]).toEqual(a.paramGroups[0]);
  a.dispose();
  b.dispose();
  model.dispose();
});

test("a base64 buffer that is not a whole number of float32 values is reported in bytes", () => {
  const model = makeModel(6);
  const opt = new SGD(model.params, { lr: 0.1, momentum: 0.9 });
  model.setGrads(gradientSequence(1, 6)[0]);
  opt.step();
  const saved = opt.stateDict({ json: true });
  const corrupt = { ...saved, state: saved.state.map((s, i) => (i === 1 ? { ...s, momentumBuffer: btoa("abcde") } : s)) };
  expect(() => opt.loadStateDict(corrupt)).toThrow(
    "SGD.loadStateDict: state.state[1].momentumBuffer holds 5 bytes, not a whole number of float32 values, expected 30 float32 values (120 bytes)",
  );
  opt.dispose();
  model.dispose();
});

test("zeroGrad zeroes Tensor and Float32Array gradients", () => {
  const model = makeModel(5);
  model.setGrads(gradientSequence(1, 5)[0]);
  const opt = new SGD(model.params, { lr: 0.1 });
  opt.zeroGrad();
  for (const p of model.params) expect((p.grad instanceof Tensor ? p.grad.data : p.grad).every((x) => x === 0)).toBe(true);
  opt.dispose();
  model.dispose();
});

test("dispose frees the state; a long run does not grow memory; a disposed optimizer throws", () => {
  const { memory } = runtime("test");
  const model = makeModel(8);
  const before = memory.allocatedBytes;
  const opt = new Adam(model.params, { amsgrad: true });
  const grads = gradientSequence(1, 8)[0];
  model.setGrads(grads);
  opt.step();
  const afterOne = memory.allocatedBytes;
  const bytes = memory.byteLength;
  for (let t = 0; t < 50; t++) opt.step();
  expect(memory.allocatedBytes).toBe(afterOne);
  expect(memory.byteLength).toBe(bytes);
  opt.dispose();
  opt.dispose(); // idempotent
  expect(opt.disposed).toBe(true);
  // exactly the three buffers per parameter (16-byte blocks) are returned
  const block = (shape: readonly number[]) => Math.max(16, Math.ceil((4 * shape.reduce((x, y) => x * y, 1)) / 16) * 16);
  expect(afterOne - memory.allocatedBytes).toBe(SHAPES.reduce((n, shape) => n + 3 * block(shape), 0));
  expect(memory.allocatedBytes).toBeGreaterThanOrEqual(before);
  expect(() => opt.step()).toThrow(/disposed/);
  expect(() => opt.stateDict()).toThrow(TypeError);
  model.dispose();
});
