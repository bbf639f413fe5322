// The newer rules on random shapes, layouts, gc modes and hyperparameters (fast-check): every run
// matches the float64 reference within the trajectory tolerance, and gc "update" keeps every
// centralized unit's weight mean within the drift bound u·(Σₜ‖wₜ‖∞ + D·Σₜ‖Δₜ‖∞), D = 4 (README
// "Accuracy of the optimizers": each step rounds w + PΔ once and PΔ's centering twice; these rules
// carry no centered buffer). A step that is not centered moves the mean by ~lr, far past it.
import fc from "fast-check";
import { expect, test } from "vitest";
import type { GcMode } from "../optim-oracle.js";
import { trajectoryError } from "../optim-fixtures.js";
import { type Options, RULES, type RuleCase, settingsOf } from "../optim-rules.js";
import { type Layout, unitIndices } from "../oracle.js";
import { randomArray } from "../random.js";

const STEPS = 8;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Two to four parameters of rank 0–4 with dims 1–9 (odd widths exercise the scalar tails). */
const shapes = fc.array(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 4 }), { minLength: 2, maxLength: 4 });
const common = {
  shapes,
  gc: fc.constantFrom<GcMode>("gradient", "update", false),
  layout: fc.constantFrom<Layout>("out-first", "out-last"),
  convOnly: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
  offset: fc.constantFrom(0, 0.5, 10),
};

const startingPoint = (shapeList: number[][], seed: number) =>
  shapeList.map((shape, i) => ({ value: Float64Array.from(randomArray(size(shape), seed - i - 1, 0, 0.5)), shape }));

/** Steps the rule and (when given) its reference through STEPS seeded gradients; returns the weights. */
function run(rule: RuleCase, shapeList: number[][], seed: number, offset: number, options: Options, compare: boolean) {
  const start = startingPoint(shapeList, seed);
  const reference = rule.reference(start.map((p) => ({ ...p, value: Float64Array.from(p.value) })));
  const params = shapeList.map((shape, i) => ({ value: Float32Array.from(start[i].value), grad: new Float32Array(size(shape)), shape }));
  const opt = rule.make(params, options);
  const settings = settingsOf(rule, options);
  const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const sumW = params.map(() => 0); // Σₜ‖wₜ‖∞ per parameter
  const sumStep = params.map(() => 0); // Σₜ‖Δₜ‖∞
  for (let t = 0; t < STEPS; t++) {
    const grads = shapeList.map((shape, i) => randomArray(size(shape), seed + 97 * t + i, offset));
    params.forEach((p, i) => p.grad.set(grads[i]));
    const previous = params.map((p) => p.value.slice());
    opt.step();
    params.forEach((p, i) => {
      sumW[i] += Math.max(maxAbs(previous[i]), maxAbs(p.value));
      sumStep[i] += p.value.reduce((m, v, j) => Math.max(m, Math.abs(v - previous[i][j])), 0);
    });
    if (compare) reference.step(grads, shapeList.map(() => settings));
  }
  opt.dispose();
  return { values: params.map((p) => p.value), reference, start, sumW, sumStep };
}

test.each(RULES)("$name on random shapes and hyperparameters matches the float64 reference", (rule) => {
  fc.assert(
    fc.property(fc.record({ ...common, hyper: rule.arbitrary }), ({ shapes: shapeList, seed, offset, hyper, ...gcOptions }) => {
      const options = { ...hyper, ...gcOptions };
      const { values, reference, sumStep } = run(rule, shapeList, seed, offset, options, true);
      // Lion steps by sign(c): a draw whose |c| came within float32 rounding of 0 (1e-6 covers it
      // for these gradients, offsets ≤ 10) has no sign the float64 reference can vouch for.
      fc.pre((reference.smallestInterpolation ?? Infinity) > 1e-6);
      // Random draws take steps larger than the weights: Adadelta (lr 0.5, eps 1e-3) moved two
      // scalar weights by Σ|Δ| ≈ 0.4 each to end near 0.03, 1.51·u off. The steps' roundoff counts.
      expect(trajectoryError(values, reference.params, STEPS, sumStep)).toBeLessThanOrEqual(1);
    }),
    { numRuns: 30 },
  );
});

test.each(RULES)('$name, gc "update": every centralized unit\'s weight mean stays put (random shapes)', (rule) => {
  fc.assert(
    fc.property(fc.record({ shapes, layout: common.layout, seed: common.seed, hyper: rule.arbitrary }), ({ shapes: shapeList, layout, seed, hyper }) => {
      const { values, start, sumW, sumStep } = run(rule, shapeList, seed, 0.5, { ...hyper, gc: "update", layout }, false);
      shapeList.forEach((shape, i) => {
        if (shape.length < 2) return;
        const bound = 2 ** -24 * (sumW[i] + 4 * sumStep[i]);
        for (const unit of unitIndices(shape, layout)) {
          const mean = (x: ArrayLike<number>) => unit.reduce((s, j) => s + x[j], 0) / unit.length;
          expect(Math.abs(mean(values[i]) - mean(start[i].value))).toBeLessThanOrEqual(bound);
        }
      });
    }),
    { numRuns: 20 },
  );
});
