// RAdam, NAdam, Adamax, Adagrad, Adadelta, RMSprop and Lion against their float64 references
// (torch.optim's documented algorithms; Lion: the paper's), over 20 steps, every gc mode, both
// layouts, each rule's options, convOnly and per-parameter gc: false.
import { describe, expect, test } from "vitest";
import { Tensor } from "../../src/index.js";
import type { GcMode } from "../optim-oracle.js";
import { compareTrajectory, makeModel, referenceParams, SHAPES } from "../optim-fixtures.js";
import { type Options, RULES, type RuleCase, settingsOf } from "../optim-rules.js";
import type { Layout } from "../oracle.js";
import { maxAbsDiff } from "../oracle.js";

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
