// Adam and AdamW against the float64 torch.optim references, with GC at the gradient or on the update.
import { describe, expect, test } from "vitest";
import { Adam, AdamW, Tensor } from "../../src/index.js";
import { AdamReference, type AdamSettings, type GcMode } from "../optim-oracle.js";
import { compareTrajectory, makeModel, referenceParams, SHAPES, toleranceRatio } from "../optim-fixtures.js";
import { centralizeReference, maxAbsDiff, type Layout } from "../oracle.js";
import { randomArray } from "../random.js";

const STEPS = 20;

type Options = Partial<Omit<AdamSettings, "decoupled">>;

function settingsOf(options: Options, decoupled: boolean): AdamSettings {
  return {
    lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: decoupled ? 1e-2 : 0, amsgrad: false,
    gc: "gradient", convOnly: false, layout: "out-first", decoupled, ...options,
  };
}

/** Runs Adam (or AdamW) and the reference for `steps` steps; returns the worst tolerance ratio and the weights. */
function trajectory(decoupled: boolean, options: Options, gcOff: number[] = [], steps = STEPS, seed = 5) {
  const model = makeModel(seed, SHAPES, gcOff);
  const reference = new AdamReference(referenceParams(model));
  const settings = settingsOf(options, decoupled);
  const opt = decoupled ? new AdamW(model.params, options) : new Adam(model.params, options);
  return compareTrajectory(model, opt, reference, settings, steps, seed);
}

const VARIANTS: [string, boolean, Options][] = [
  ["Adam", false, { lr: 0.01 }],
  ["Adam, L2, amsgrad", false, { lr: 0.01, weightDecay: 0.05, amsgrad: true, betas: [0.8, 0.99] }],
  ["AdamW", true, { lr: 0.01, weightDecay: 0.1 }],
  ["AdamW, amsgrad, eps 1e-3", true, { lr: 0.02, weightDecay: 0.05, amsgrad: true, eps: 1e-3 }],
];

describe.each(["gradient", "update", false] as GcMode[])("gc %s", (gc) => {
  describe.each(["out-first", "out-last"] as Layout[])("%s", (layout) => {
    test.each(VARIANTS)("%s: 20 steps match the float64 reference", (_, decoupled, options) => {
      expect(trajectory(decoupled, { ...options, gc, layout }).error).toBeLessThanOrEqual(1);
    });
  });
});

test("convOnly centralizes only the rank-4 parameters", () => {
  for (const layout of ["out-first", "out-last"] as Layout[]) {
    for (const gc of ["gradient", "update"] as GcMode[]) {
      expect(trajectory(false, { lr: 0.01, convOnly: true, layout, gc }).error).toBeLessThanOrEqual(1);
      expect(trajectory(true, { lr: 0.01, convOnly: true, layout, gc }).error).toBeLessThanOrEqual(1);
    }
  }
});

test("parameters with gc: false are stepped without GC", () => {
  for (const gc of ["gradient", "update"] as GcMode[]) {
    expect(trajectory(false, { lr: 0.01, gc }, [1, 3]).error).toBeLessThanOrEqual(1);
    expect(trajectory(true, { lr: 0.01, gc }, [1, 3]).error).toBeLessThanOrEqual(1);
  }
});

test('Adam "gradient", "update" and off differ on parameters of rank > 1 and agree on rank ≤ 1', () => {
  const runs = (["gradient", "update", false] as GcMode[]).map((gc) => trajectory(false, { lr: 0.01, gc }).values);
  for (let i = 0; i < SHAPES.length; i++) {
    const spread = Math.max(maxAbsDiff(runs[0][i], runs[1][i]), maxAbsDiff(runs[0][i], runs[2][i]), maxAbsDiff(runs[1][i], runs[2][i]));
    if (SHAPES[i].length > 1) expect(spread).toBeGreaterThan(1e-3);
    else expect(spread).toBe(0);
  }
});

test("defaults are torch.optim.Adam's and AdamW's, with gc \"gradient\", out-first", () => {
  const param = () => [{ value: new Tensor([3, 2]), grad: new Tensor([3, 2]) }];
  const common = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false, formula: "torch", gc: "gradient", convOnly: false, layout: "out-first" };
  const adam = new Adam(param());
  const adamw = new AdamW(param());
  expect({ ...adam.paramGroups[0], params: undefined }).toEqual({ ...common, weightDecay: 0, params: undefined });
  expect({ ...adamw.paramGroups[0], params: undefined }).toEqual({ ...common, weightDecay: 1e-2, params: undefined });
  adam.dispose();
  adamw.dispose();
});

test("AdamW decays by lr·wd (torch), not by lr·wd / (1 − β1ᵗ) (the official GC repository)", () => {
  // zero gradient: m = v = 0, so the Adam term is 0 and only the decay moves w.
  const w = new Float32Array([1, 2, 3, 4]);
  const opt = new AdamW([{ value: w, grad: new Float32Array(4), shape: [4] }], { lr: 0.1, weightDecay: 0.5 });
  opt.step();
  expect(Array.from(w)).toEqual(Array.from(new Float32Array([1, 2, 3, 4].map((x) => Math.fround(x * Math.fround(1 - 0.05))))));
  opt.dispose();
});

test.each(["out-first", "out-last"] as Layout[])(
  "first moments on 1000 + N(0,1) gradients match (1 − β1)·P g in float64 (%s)",
  (layout) => {
    for (const shape of [[9, 37], [4, 3, 5, 7], [33, 3]]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const g = randomArray(size, 13, 1000, 1);
      const w = randomArray(size, 14);
      const opt = new Adam([{ value: w, grad: g, shape }], { layout });
      opt.step();
      const { expAvg, expAvgSq } = opt.stateDict().state[0] as unknown as { expAvg: Float32Array; expAvgSq: Float32Array };
      const centered = centralizeReference(g, shape, layout);
      // P g to ≤ 5e-7 (the centralize standard), then float32 products: 1 − β1 and 1 − β2 are
      // rounded to float32 and each product rounds once (≤ 2u relative together).
      const big = Math.max(...centered.map(Math.abs));
      const u = 2 ** -24;
      expect(maxAbsDiff(expAvg, centered.map((x) => 0.1 * x))).toBeLessThanOrEqual(0.1 * 5e-7 + 2 * u * 0.1 * big);
      // v = 0.001·d²: d's error 5e-7 moves d² by ≤ 2·5e-7·|d|; three roundings (1 − β2, d·d, the product)
      expect(toleranceRatio(expAvgSq, centered.map((x) => 0.001 * x * x), 3 * u, 0.001 * 2 * 5e-7 * big)).toBeLessThanOrEqual(1);
      opt.dispose();
    }
  },
);
