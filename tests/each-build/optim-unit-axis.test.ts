// Every optimizer with layout { unitAxis: k }: the fused kernels' general [outer, units, inner]
// view against the float64 references, the gc "update" invariant on that view, the named ends
// bit for bit, checkpoints carrying the object layout, and bad layouts refused by name.
import { describe, expect, test } from "vitest";
import { Adadelta, Adagrad, Adam, Adamax, AdamW, type Layout, Lookahead, Ranger, RMSprop, SGD, Tensor } from "../../src/index.js";
import type { Param } from "../../src/index.js";
import { expectRefused } from "../hostile-fixtures.js";
import { bits, makeModel, referenceParams, resumeFromMidway, trajectoryError } from "../optim-fixtures.js";
import {
  AdamReference, type GcMode, type ReferenceParam, SgdReference, TfjsAdadeltaReference, TfjsAdagradReference, TfjsAdamaxReference,
  TfjsAdamReference, TfjsRMSpropReference,
} from "../optim-oracle.js";
import { RULES, settingsOf } from "../optim-rules.js";
import { product, unitIndices } from "../oracle.js";
import { randomArray } from "../random.js";

/**
 * A model whose rank-4 parameters put the unit axis −2 between outer > 1 and inner > 1
 * (Conv2DTranspose [kh, kw, filters, in]; inner 3 and 5 are not multiples of 4), next to ranks
 * 1–3 (axis −2 of a rank-2 parameter is out-first) and a scalar.
 */
const SHAPES: number[][] = [[3, 3, 8, 16], [7], [2, 5, 7, 3], [6, 9], [4, 3, 5], [2, 2, 1, 5], []];

interface Stepped {
  step(): void;
  dispose(): void;
}

type Reference = { params: ReferenceParam[]; step(grads: ArrayLike<number>[], settings: never[]): void };

interface Case {
  name: string;
  make(params: Param[], options: Record<string, unknown>): Stepped & { stateDict(o?: { json?: boolean }): unknown; loadStateDict(s: never): void };
  reference(params: ReferenceParam[]): Reference;
  settings(options: Record<string, unknown>): never;
  options: Record<string, unknown>;
}

const CASES: Case[] = [
  {
    name: "SGD, momentum 0.9, nesterov, L2",
    make: (p, o) => new SGD(p, o as never),
    reference: (p) => new SgdReference(p) as unknown as Reference,
    settings: (o) => ({ lr: 0.01, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.05, gc: "gradient", convOnly: false, layout: "out-first", ...o }) as never,
    options: { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 0.05 },
  },
  {
    name: "Adam, L2, amsgrad",
    make: (p, o) => new Adam(p, o as never),
    reference: (p) => new AdamReference(p) as unknown as Reference,
    settings: (o) => ({ lr: 0.01, betas: [0.8, 0.99], eps: 1e-8, weightDecay: 0.05, amsgrad: true, decoupled: false, gc: "gradient", convOnly: false, layout: "out-first", ...o }) as never,
    options: { lr: 0.01, betas: [0.8, 0.99], weightDecay: 0.05, amsgrad: true },
  },
  {
    name: "AdamW",
    make: (p, o) => new AdamW(p, o as never),
    reference: (p) => new AdamReference(p) as unknown as Reference,
    settings: (o) => ({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, amsgrad: false, decoupled: true, gc: "gradient", convOnly: false, layout: "out-first", ...o }) as never,
    options: { lr: 0.01, weightDecay: 0.1 },
  },
  ...RULES.map((rule): Case => ({
    name: `${rule.name} ${JSON.stringify(rule.full)}`,
    make: (p, o) => rule.make(p, o) as never,
    reference: (p) => rule.reference(p) as unknown as Reference,
    settings: (o) => settingsOf(rule, { ...rule.full, ...o }),
    options: rule.full,
  })),
];

/** Parameters over SHAPES (even ones Tensors, odd ones Float32Arrays), weights 0.5·N(0, 1) + offset. */
function model(seed: number, offset = 0) {
  const params: Param[] = SHAPES.map((shape, i) => {
    const values = randomArray(product(shape), seed + i, offset, 0.5);
    return i % 2 === 0 ? { value: Tensor.from(values, shape), grad: new Tensor(shape) } : { value: values, grad: new Float32Array(values.length), shape };
  });
  const view = (x: Tensor | Float32Array) => (x instanceof Tensor ? x.data : x);
  return {
    params,
    values: () => params.map((p) => Float32Array.from(view(p.value))),
    setGrads: (grads: Float32Array[]) => params.forEach((p, i) => view(p.grad).set(grads[i])),
    dispose: () => params.forEach((p) => [p.value, p.grad].forEach((x) => x instanceof Tensor && x.dispose())),
  };
}

const gradients = (t: number, seed: number) => SHAPES.map((shape, i) => randomArray(product(shape), seed * 1000 + t * 31 + i, 0.3, 1));

/** Steps an optimizer and its reference side by side; the worst tolerance ratio (≤ 1 passes) and the weights. */
function trajectory(c: Case, gc: GcMode, layout: Layout, steps = 12, seed = 3, convOnly = false) {
  const m = model(seed);
  const reference = c.reference(m.values().map((v, i) => ({ value: Float64Array.from(v), shape: SHAPES[i] })));
  const options = { ...c.options, gc, layout, convOnly };
  const opt = c.make(m.params, options);
  const settings = c.settings({ gc, layout, convOnly });
  for (let t = 0; t < steps; t++) {
    const grads = gradients(t, seed);
    m.setGrads(grads);
    opt.step();
    reference.step(grads, SHAPES.map(() => settings));
  }
  const values = m.values();
  const error = trajectoryError(values, reference.params, steps);
  opt.dispose();
  m.dispose();
  return { error, values };
}

/** formula "tfjs" (tf.train's element updates) on the general view, against tests/optim-oracle.ts's Tfjs* references. */
const GC_DEFAULTS = { gc: "gradient", convOnly: false, layout: "out-first" };
const tfjsCase = (name: string, make: Case["make"], reference: (p: ReferenceParam[]) => unknown, defaults: Record<string, unknown>, options: Record<string, unknown>): Case => ({
  name: `${name}, formula "tfjs" ${JSON.stringify(options)}`,
  make: (p, o) => make(p, { ...o, formula: "tfjs" }),
  reference: reference as Case["reference"],
  settings: (o) => ({ ...defaults, ...GC_DEFAULTS, ...options, ...o }) as never,
  options,
});
CASES.push(
  tfjsCase("Adagrad", (p, o) => new Adagrad(p, o as never) as never, (p) => new TfjsAdagradReference(p),
    { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 }, { lr: 0.05, weightDecay: 0.05, lrDecay: 0.1, initialAccumulatorValue: 0.5, eps: 0.5 }),
  tfjsCase("RMSprop", (p, o) => new RMSprop(p, o as never) as never, (p) => new TfjsRMSpropReference(p),
    { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false }, { alpha: 0.9, centered: true, momentum: 0.5, weightDecay: 0.05, eps: 1e-10 }),
  tfjsCase("Adamax", (p, o) => new Adamax(p, o as never) as never, (p) => new TfjsAdamaxReference(p),
    { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, lrDecay: 0 }, { lr: 0.01, weightDecay: 0.05, betas: [0.5, 0.9], lrDecay: 0.1, eps: 0.5 }),
  tfjsCase("Adadelta", (p, o) => new Adadelta(p, o as never) as never, (p) => new TfjsAdadeltaReference(p),
    { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0 }, { lr: 0.5, weightDecay: 0.05, rho: 0.5, eps: 1e-3 }),
  tfjsCase("Adam", (p, o) => new Adam(p, o as never) as never, (p) => new TfjsAdamReference(p),
    { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, decoupled: false }, { lr: 0.01, weightDecay: 0.05, betas: [0.8, 0.99], eps: 0.1 }),
);

describe.each(CASES)("$name", (c) => {
  describe.each(["gradient", "update"] as GcMode[])("gc %s", (gc) => {
    test.each([[-2, false], [1, false], [-3, true], [2, true]])("unitAxis %i (convOnly %s): 12 steps match the float64 reference", (k, convOnly) => {
      expect(trajectory(c, gc, { unitAxis: k }, 12, 3, convOnly).error).toBeLessThanOrEqual(1);
    });

    test("unitAxis 0 gives out-first's weights and unitAxis -1 out-last's, bit for bit", () => {
      expect(bits(trajectory(c, gc, { unitAxis: 0 }, 5).values)).toEqual(bits(trajectory(c, gc, "out-first", 5).values));
      expect(bits(trajectory(c, gc, { unitAxis: -1 }, 5).values)).toEqual(bits(trajectory(c, gc, "out-last", 5).values));
    });
  });

  test('gc "update" on unitAxis -2: every unit\'s weight mean stays where it was (20 steps, weights around 3)', () => {
    const layout: Layout = { unitAxis: -2 };
    const m = model(11, 3);
    const unitMeans = (w: Float32Array[]) =>
      SHAPES.map((shape, i) => (shape.length > 1 ? unitIndices(shape, layout).map((u) => u.reduce((s, j) => s + w[i][j], 0) / u.length) : []));
    const before = unitMeans(m.values());
    const opt = c.make(m.params, { ...c.options, gc: "update", layout });
    // The drift bound u·(Σₜ‖wₜ‖∞ + D·Σₜ‖Δₜ‖∞) of tests/each-build/optim-invariant.test.ts, over all
    // parameters at once: D = 4, SGD's 4·(1 + nesterov)/(1 − μ) = 80.
    let sumW = 0;
    let sumStep = 0;
    const maxAbs = (arrays: Float32Array[]) => Math.max(...arrays.flatMap((a) => Array.from(a, Math.abs)));
    for (let t = 0; t < 20; t++) {
      const previous = m.values();
      m.setGrads(gradients(t, 11));
      opt.step();
      const now = m.values();
      sumW += Math.max(maxAbs(previous), maxAbs(now));
      sumStep += maxAbs(now.map((w, i) => w.map((x, j) => x - previous[i][j])));
    }
    const after = unitMeans(m.values());
    expect(sumStep).toBeGreaterThan(20 * 1e-4); // the weights did move
    const bound = 2 ** -24 * (sumW + (c.name.startsWith("SGD") ? 80 : 4) * sumStep);
    after.forEach((means, i) => means.forEach((mean, u) => expect(Math.abs(mean - before[i][u])).toBeLessThanOrEqual(bound)));
    opt.dispose();
    m.dispose();
  });
});

describe("checkpoints with layout { unitAxis }", () => {
  test.each(CASES.map((c) => [c.name, c] as const))("%s: resuming from stateDict (plain and JSON) is bit-identical", (_, c) => {
    for (const gc of ["gradient", "update"] as GcMode[]) {
      const run = resumeFromMidway((params) => c.make(params, { ...c.options, gc, layout: { unitAxis: -2 } }));
      expect(run.plain).toEqual(run.uninterrupted);
      expect(run.json).toEqual(run.uninterrupted);
      // (tf.train.adadelta's formula is SGD in TF.js 4.22: its state never changes a step, so a fresh start agrees)
      if (!c.name.startsWith('Adadelta, formula "tfjs"')) expect(run.fresh).not.toEqual(run.uninterrupted);
    }
  });

  test("Ranger and Lookahead(Adam) carry the layout through their inner optimizer: resumes are bit-identical", () => {
    for (const gc of ["gradient", "update"] as GcMode[]) {
      const layout: Layout = { unitAxis: -2 };
      const ranger = resumeFromMidway((params) => new Ranger(params, { lr: 0.01, gc, layout }));
      expect(ranger.plain).toEqual(ranger.uninterrupted);
      expect(ranger.json).toEqual(ranger.uninterrupted);
      const lookahead = resumeFromMidway((params) => new Lookahead(new Adam(params, { lr: 0.01, gc, layout }), { k: 3 }));
      expect(lookahead.plain).toEqual(lookahead.uninterrupted);
      expect(lookahead.json).toEqual(lookahead.uninterrupted);
    }
  });

  test("stateDict keeps the layout as { unitAxis } (plain and JSON); loadStateDict restores it", () => {
    const m = makeModel(1);
    const opt = new Adam(m.params, { lr: 0.01, layout: { unitAxis: -2 } });
    const plain = opt.stateDict() as { paramGroups: { layout: unknown }[] };
    expect(plain.paramGroups[0].layout).toEqual({ unitAxis: -2 });
    const json = JSON.parse(JSON.stringify(opt.stateDict({ json: true })));
    expect(json.paramGroups[0].layout).toEqual({ unitAxis: -2 });
    const other = new Adam(m.params, { lr: 0.01 });
    other.loadStateDict(json);
    expect(other.paramGroups[0].layout).toEqual({ unitAxis: -2 });
    other.loadStateDict(plain as never);
    expect(other.paramGroups[0].layout).toEqual({ unitAxis: -2 });
    opt.dispose();
    other.dispose();
    m.dispose();
  });

  test("SGD's centered record names the axis plainly: out-first, out-last, or { unitAxis } in between", () => {
    const params: Param[] = [
      { value: randomArray(144 * 8, 1), grad: randomArray(144 * 8, 2), shape: [3, 3, 8, 16] },
      { value: randomArray(30, 3), grad: randomArray(30, 4), shape: [5, 6] },
      { value: randomArray(24, 5), grad: randomArray(24, 6), shape: [2, 3, 4] },
    ];
    const opt = new SGD(params, { lr: 0.1, momentum: 0.9, gc: "update", layout: { unitAxis: -2 } });
    opt.step();
    const dict = opt.stateDict();
    expect(dict.state.map((s) => s.centered)).toEqual([{ unitAxis: 2 }, "out-first", { unitAxis: 1 }]);
    // A checkpoint naming the same units another way loads as the same fact: no re-centering next
    // step, so the weights equal an uninterrupted run's bit for bit.
    const json = JSON.parse(JSON.stringify(opt.stateDict({ json: true })));
    json.state[0].centered = { unitAxis: -2 };
    json.state[1].centered = { unitAxis: 0 };
    const weights = params.map((p) => Float32Array.from(p.value as Float32Array));
    const copies: Param[] = params.map((p, i) => ({ value: weights[i].slice(), grad: (p.grad as Float32Array).slice(), shape: p.shape }));
    const resumed = new SGD(copies, { lr: 0.1, momentum: 0.9, gc: "update", layout: { unitAxis: -2 } });
    resumed.loadStateDict(json);
    expect(resumed.stateDict().state.map((s) => s.centered)).toEqual([{ unitAxis: 2 }, "out-first", { unitAxis: 1 }]);
    opt.step();
    resumed.step();
    expect(bits(copies.map((p) => p.value as Float32Array))).toEqual(bits(params.map((p) => p.value as Float32Array)));
    opt.dispose();
    resumed.dispose();
  });
});

describe("bad layouts in optimizers: a named error, nothing changed", () => {
  const conv = () => ({ value: randomArray(144 * 8, 1), grad: randomArray(144 * 8, 2), shape: [3, 3, 8, 16] });
  const dense = () => ({ value: randomArray(30, 3), grad: randomArray(30, 4), shape: [5, 6] });
  const bias = () => ({ value: randomArray(5, 5), grad: randomArray(5, 6), shape: [5] });

  test("new Adam: unitAxis out of range for a parameter GC applies to (rank ≤ 1 and gc: false ones are not checked)", () => {
    expectRefused(() => new Adam([conv(), dense()], { layout: { unitAxis: 2 } }), RangeError,
      /^new Adam: options\.layout\.unitAxis 2 is out of range for a rank-2 tensor \(params\[1\]\)/, [], { memory: false });
    expectRefused(() => new Adam([{ params: [conv()], layout: { unitAxis: -5 } }]), RangeError,
      /^new Adam: params\[0\]\.layout\.unitAxis -5 is out of range for a rank-4 tensor \(params\[0\]\.params\[0\]\)/, [], { memory: false });
    const fine = new Adam([conv(), bias(), { ...dense(), gc: false }], { layout: { unitAxis: 3 } });
    fine.step();
    fine.dispose();
    const convOnly = new Adam([conv(), dense()], { layout: { unitAxis: 3 }, convOnly: true });
    convOnly.step();
    convOnly.dispose();
  });

  test.each<[string, () => unknown, typeof TypeError | typeof RangeError, RegExp]>([
    ["a getter", (): unknown => ({ get unitAxis(): number { return 1; } }), TypeError, /^new SGD: options\.layout\.unitAxis must be a plain data property/],
    ["a wrong key", () => ({ axis: 1 }), TypeError, /^new SGD: options\.layout\.axis is not a field of a layout/],
    ["a non-integer", () => ({ unitAxis: -1.5 }), RangeError, /^new SGD: options\.layout\.unitAxis must be an integer, got -1\.5/],
    ["a string axis", () => ({ unitAxis: "2" }), TypeError, /^new SGD: options\.layout\.unitAxis must be an integer, got string "2"/],
    ["a string layout", () => "out-second", RangeError, /^new SGD: options\.layout must be "out-first" or "out-last", got "out-second"/],
  ])("new SGD with %s", (_, layout, type, message) => {
    expectRefused(() => new SGD([conv()], { lr: 0.1, layout: layout() as Layout }), type, message, [], { memory: false });
  });

  test("a step with a group's layout changed to one out of range throws by name and changes nothing", () => {
    const c = conv();
    const d = dense();
    const opt = new Adam([c, d], { lr: 0.1, layout: { unitAxis: -2 } });
    opt.step();
    (opt.paramGroups[0] as { layout: Layout }).layout = { unitAxis: 2 };
    expectRefused(() => opt.step(), RangeError, /^Adam\.step: paramGroups\[0\]\.layout\.unitAxis 2 is out of range for a rank-2 tensor \(params\[1\]\)/, [c.value, d.value]);
    (opt.paramGroups[0] as { layout: unknown }).layout = { get unitAxis() { return -2; } };
    expectRefused(() => opt.step(), TypeError, /^Adam\.step: paramGroups\[0\]\.layout\.unitAxis must be a plain data property/, [c.value, d.value]);
    (opt.paramGroups[0] as { layout: Layout }).layout = { unitAxis: -2 };
    const state = opt.stateDict();
    (opt.paramGroups[0] as { layout: Layout }).layout = { unitAxis: 1 };
    opt.step(); // the live group's layout is read at each step
    expect(opt.stateDict().paramGroups[0].layout).toEqual({ unitAxis: 1 });
    expect(state.paramGroups[0].layout).toEqual({ unitAxis: -2 });
    opt.dispose();
  });

  test("loadStateDict: a layout or centered record that does not fit is refused by name before anything changes", () => {
    const c = conv();
    const d = dense();
    const opt = new SGD([c, d], { lr: 0.1, momentum: 0.9, gc: "update", layout: { unitAxis: -2 } });
    opt.step();
    const good = JSON.parse(JSON.stringify(opt.stateDict({ json: true })));
    const bad = (patch: (s: typeof good) => void) => {
      const s = JSON.parse(JSON.stringify(good));
      patch(s);
      return s;
    };
    const before = JSON.stringify(opt.stateDict({ json: true }));
    const attempts: [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      [bad((s) => (s.paramGroups[0].layout = { unitAxis: 2 })), RangeError, /^SGD\.loadStateDict: state\.paramGroups\[0\]\.layout\.unitAxis 2 is out of range for a rank-2 tensor \(params\[1\]\)/],
      [bad((s) => (s.paramGroups[0].layout = { unitAxis: 1, extra: 0 })), TypeError, /^SGD\.loadStateDict: state\.paramGroups\[0\]\.layout\.extra is not a field of a layout/],
      [bad((s) => (s.state[0].centered = { unitAxis: 4 })), RangeError, /^SGD\.loadStateDict: state\.state\[0\]\.centered\.unitAxis 4 is out of range for a rank-4 tensor/],
      [bad((s) => (s.state[0].centered = { unitAxis: 0.5 })), RangeError, /^SGD\.loadStateDict: state\.state\[0\]\.centered\.unitAxis must be an integer/],
      [bad((s) => (s.state[0].centered = "middle")), RangeError, /^SGD\.loadStateDict: state\.state\[0\]\.centered must be "out-first" or "out-last"/],
    ];
    const nested = bad(() => {});
    nested.paramGroups[0].layout = { get unitAxis() { return 1; } };
    attempts.push([nested, TypeError, /^SGD\.loadStateDict: state\.paramGroups\[0\]\.layout\.unitAxis must be a plain data property/]);
    for (const [state, type, message] of attempts) {
      expectRefused(() => opt.loadStateDict(state as never), type, message, [c.value, d.value]);
      expect(JSON.stringify(opt.stateDict({ json: true }))).toBe(before);
    }
    opt.dispose();
  });
});
