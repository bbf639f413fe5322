// SGD gc "update" keeps every output unit's weight mean fixed whatever its momentum buffer holds:
// also after steps with gc off, another layout, convOnly or a parameter opted out, and after
// loading a checkpoint of such steps. (A buffer of uncentered values carries its unit means into
// the later steps: run as "gradient" with such a buffer, the weight means moved by about
// lr·μ/(1 − μ) times the buffer's: measured, over 10⁴ times the tolerance below.)
//
// Tolerance of a unit mean, T steps after the switch: each step rounds every weight once
// (≤ u·|w|, u = 2⁻²⁴) and adds a step whose unit mean is a sum of roundings of values smaller than
// the weights here, so the worst case is about T·2u·max|w| (as in optim-invariant.test.ts);
// measured: under 0.25·2u·max|w| after T = 20 steps, both builds.
import { describe, expect, test } from "vitest";
import { SGD } from "../../src/index.js";
import type { Param, SGDOptions } from "../../src/index.js";
import { type Layout, unitIndices } from "../oracle.js";
import { SgdReference, type SgdSettings } from "../optim-oracle.js";
import { bits, gradientSequence, makeModel, type Model, maxAbs, referenceParams, resumeBits, ROUNDOFF, SHAPES, trajectoryError } from "../optim-fixtures.js";

const BEFORE = 6; // steps before the switch
const AFTER = 20; // steps of gc "update"
const OFFSET = 1; // gradients 1 + N(0, 1): the buffer's unit means are ~1/(1 − μ) before the switch

const VARIANTS: [string, SGDOptions & { lr: number }][] = [
  ["momentum", { lr: 0.05, momentum: 0.9 }],
  ["momentum, dampening, L2", { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 }],
  ["nesterov", { lr: 0.05, momentum: 0.8, nesterov: true }],
];

const LAYOUTS: Layout[] = ["out-first", "out-last"];
const other = (layout: Layout): Layout => (layout === "out-first" ? "out-last" : "out-first");

/**
 * The steps before the switch to "update": what they change in the group (undone at the switch)
 * and whether parameters 1 and 4 (a [5, 6] Float32Array, a [6, 9] Tensor) opt out of GC.
 */
interface History {
  name: string;
  group: (layout: Layout) => Pick<SgdSettings, "gc" | "layout" | "convOnly">;
  optOut?: boolean;
}

const GC_OFF: History = { name: "gc off", group: (layout) => ({ gc: false, layout, convOnly: false }) };

const HISTORIES: History[] = [
  GC_OFF,
  { name: '"gradient" over the other layout\'s units', group: (layout) => ({ gc: "gradient", layout: other(layout), convOnly: false }) },
  { name: '"gradient" with convOnly', group: (layout) => ({ gc: "gradient", layout, convOnly: true }) },
  { name: '"gradient" with parameters opted out', group: (layout) => ({ gc: "gradient", layout, convOnly: false }), optOut: true },
];

/** Sets the opt-out of parameters 1 and 4, in the model and the reference. */
function optOut(model: Model, reference: SgdReference, out: boolean) {
  for (const i of [1, 4]) {
    if (out) model.params[i].gc = false;
    else delete model.params[i].gc;
    reference.params[i].gc = out ? false : undefined;
  }
}

/** Float64 unit means of every parameter GC centralizes (rank > 1) over `layout`'s units. */
function unitMeans(values: Float32Array[], layout: Layout): number[][] {
  return values.map((w, i) =>
    SHAPES[i].length > 1 ? unitIndices(SHAPES[i], layout).map((unit) => unit.reduce((sum, j) => sum + w[j], 0) / unit.length) : [],
  );
}

/** Largest change of a unit mean between two snapshots, in units of 2u·max|w|. */
function meanDrift(before: Float32Array[], after: Float32Array[], layout: Layout): number {
  const a = unitMeans(before, layout);
  const b = unitMeans(after, layout);
  let worst = 0;
  a.forEach((means, i) => means.forEach((m, u) => (worst = Math.max(worst, Math.abs(b[i][u] - m)))));
  return worst / (2 * ROUNDOFF * maxAbs([...before, ...after]));
}

/**
 * BEFORE steps as `history` sets up, then AFTER steps of gc "update" over `layout`, with the
 * float64 reference alongside. `load`: move to a fresh optimizer through a checkpoint at the switch.
 */
function run(options: SGDOptions & { lr: number }, layout: Layout, history: History, load?: "plain" | "json") {
  const model = makeModel(5);
  const reference = new SgdReference(referenceParams(model));
  const torchDefaults = { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 };
  let settings: SgdSettings = { ...torchDefaults, ...options, ...history.group(layout) };
  let opt = new SGD(model.params, settings);
  optOut(model, reference, history.optOut === true);
  let atSwitch: Float32Array[] = [];
  gradientSequence(BEFORE + AFTER, 5, OFFSET).forEach((g, t) => {
    if (t === BEFORE) {
      if (load) {
        const checkpoint = load === "json" ? JSON.parse(JSON.stringify(opt.stateDict({ json: true }))) : opt.stateDict();
        opt.dispose();
        opt = new SGD(model.params, { lr: 1 });
        opt.loadStateDict(checkpoint);
      }
      settings = { ...settings, gc: "update", layout, convOnly: false };
      Object.assign(opt.paramGroups[0], { gc: "update", layout, convOnly: false });
      optOut(model, reference, false);
      atSwitch = model.values();
    }
    model.setGrads(g);
    opt.step();
    reference.step(g, SHAPES.map(() => settings));
  });
  const result = { drift: meanDrift(atSwitch, model.values(), layout), error: trajectoryError(model.values(), reference.params, BEFORE + AFTER) };
  opt.dispose();
  model.dispose();
  return result;
}

describe.each(VARIANTS)("SGD %s", (_, options) => {
  describe.each(LAYOUTS)("%s", (layout) => {
    test('gc false, then "update": the unit means stay fixed from the switch on; the weights match the reference', () => {
      const { drift, error } = run(options, layout, GC_OFF);
      expect(drift).toBeLessThanOrEqual(AFTER);
      expect(error).toBeLessThanOrEqual(1);
    });

    test('a gc-off checkpoint loaded, then "update": the same', () => {
      for (const form of ["plain", "json"] as const) {
        const { drift, error } = run(options, layout, GC_OFF, form);
        expect(drift).toBeLessThanOrEqual(AFTER);
        expect(error).toBeLessThanOrEqual(1);
      }
    });
  });
});

describe.each(HISTORIES.slice(1))("after steps of $name", (history) => {
  test.each(LAYOUTS)('"update" over %s keeps the unit means fixed and matches the reference', (layout) => {
    for (const [, options] of VARIANTS) {
      const { drift, error } = run(options, layout, history);
      expect(drift).toBeLessThanOrEqual(AFTER);
      expect(error).toBeLessThanOrEqual(1);
    }
  });
});

test("stateDict records which units the momentum buffer is centered over; resuming after a switch is bit-identical", () => {
  const grads = gradientSequence(12, 9, OFFSET);
  const model = makeModel(9);
  const make = (params: Param[]) => new SGD(params, { lr: 0.05, momentum: 0.9, dampening: 0.2, gc: false, layout: "out-last" });
  const opt = make(model.params);
  const centered = () => opt.stateDict().state.map((s) => s.centered);
  let checkpoint: { weights: Float32Array[]; state: string } | undefined;
  grads.forEach((g, t) => {
    if (t === 3) {
      expect(centered()).toEqual(SHAPES.map(() => undefined)); // gc off: not centered
      opt.paramGroups[0].gc = "update";
    }
    if (t === 6) {
      // centered over out-last units where GC applies (rank > 1), not known for the rest
      expect(centered()).toEqual(SHAPES.map((shape) => (shape.length > 1 ? "out-last" : undefined)));
      checkpoint = { weights: model.values(), state: JSON.stringify(opt.stateDict({ json: true })) };
    }
    model.setGrads(g);
    opt.step();
  });
  const resume = (state: unknown) => resumeBits(make, checkpoint!.weights, state, grads.slice(6));
  const saved = JSON.parse(checkpoint!.state);
  expect(resume(saved)).toEqual(bits(model.values()));
  // without the record the buffer is centered again at the next step: the same weights up to
  // rounding, not the same bits
  const forgotten = { ...saved, state: saved.state.map(({ centered, ...rest }: { centered?: string }) => rest) };
  expect(resume(forgotten)).not.toEqual(bits(model.values()));
  expect(() => opt.loadStateDict({ ...saved, state: saved.state.map((s: object) => ({ ...s, centered: "rows" })) })).toThrow(
    /state\.state\[0\]\.centered must be/,
  );
  opt.dispose();
  model.dispose();
});
