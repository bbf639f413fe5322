// gc "update" keeps every output unit's weight mean where it started: eᵀ(w − w⁰) = 0.
//
// In float32 this holds up to rounding (README "Accuracy of the optimizers"): each step adds a
// centered Δ whose unit mean is 0 up to the two rounding subtractions that center it (≤ 2u·|Δ|,
// carried by SGD's momentum buffer for 1/(1 − μ) steps) and rounds each w + Δ once (≤ u·|w|,
// u = 2⁻²⁴), so after T steps a unit mean has moved at most u·(Σₜ‖wₜ‖∞ + D·Σₜ‖Δₜ‖∞), D = 4 for
// Adam and AdamW, 4·(1 + nesterov)/(1 − μ) for SGD. (The √T·u·max|w| asserted before is how a
// random walk grows, not a bound: it was exceeded, 6.7·u·max|w| in 20 steps.)
// For scale: with gc "gradient" Adam moves the same means by more than 10⁴ u·max|w|.
import { expect, test } from "vitest";
import { Adam, AdamW, SGD } from "../../src/index.js";
import type { Param } from "../../src/index.js";
import { RULES } from "../optim-rules.js";
import { type Layout, unitIndices } from "../oracle.js";
import { randomArray } from "../random.js";

const STEPS = 100;
const U = 2 ** -24;
const SHAPES = [[16, 3, 3, 3], [10, 50], [64, 7], [3, 5, 6]];

type Make = (params: Param[], options: { gc: "gradient" | "update"; layout: Layout }) => { step(): void; dispose(): void };

/** Name, constructor, and D of the drift bound. */
const OPTIMIZERS: [string, Make, number][] = [
  ["Adam", (p, o) => new Adam(p, { lr: 0.01, ...o }), 4],
  ["Adam, L2, amsgrad", (p, o) => new Adam(p, { lr: 0.01, weightDecay: 0.1, amsgrad: true, ...o }), 4],
  ["AdamW (decay included in the step)", (p, o) => new AdamW(p, { lr: 0.01, weightDecay: 0.1, ...o }), 4],
  ["SGD, nesterov", (p, o) => new SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true, ...o }), (4 * 2) / (1 - 0.9)],
  // every newer rule with the options that use all its state, L2 (Lion: decoupled decay) included;
  // their gc "update" centers the whole step each time (no centered buffer carried): D = 4 as Adam
  ...RULES.map((rule): [string, Make, number] => [`${rule.name} ${JSON.stringify(rule.full)}`, (p, o) => rule.make(p, { ...rule.full, ...o }), 4]),
];

function unitMeans(w: Float32Array, shape: number[], layout: Layout): number[] {
  return unitIndices(shape, layout).map((unit) => unit.reduce((sum, i) => sum + w[i], 0) / unit.length);
}

const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/**
 * Largest change of a unit mean (float64) over 100 steps, as a fraction of the drift bound
 * u·(Σₜ‖wₜ‖∞ + D·Σₜ‖Δₜ‖∞) of its parameter; and the largest change over u·max|w|.
 */
function drift(make: Make, D: number, gc: "gradient" | "update", layout: Layout, weightOffset: number) {
  const params = SHAPES.map((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return { value: randomArray(size, 100 + i, weightOffset, 0.5), grad: new Float32Array(size), shape };
  });
  const before = params.map((p) => unitMeans(p.value, p.shape, layout));
  const sumW = params.map(() => 0);
  const sumStep = params.map(() => 0);
  const opt = make(params, { gc, layout });
  for (let t = 0; t < STEPS; t++) {
    params.forEach((p, i) => p.grad.set(randomArray(p.grad.length, t * 7 + i, 0.5, 1)));
    const previous = params.map((p) => p.value.slice());
    opt.step();
    params.forEach((p, i) => {
      sumW[i] += Math.max(maxAbs(previous[i]), maxAbs(p.value));
      sumStep[i] += p.value.reduce((m, v, j) => Math.max(m, Math.abs(v - previous[i][j])), 0);
    });
  }
  opt.dispose();
  let ratio = 0;
  let worst = 0;
  let scale = 0;
  params.forEach((p, i) => {
    const bound = U * (sumW[i] + D * sumStep[i]);
    unitMeans(p.value, p.shape, layout).forEach((m, u) => {
      worst = Math.max(worst, Math.abs(m - before[i][u]));
      ratio = Math.max(ratio, Math.abs(m - before[i][u]) / bound);
    });
    scale = Math.max(scale, maxAbs(p.value));
  });
  return { ratio, worst, scale };
}

for (const [name, make, D] of OPTIMIZERS) {
  for (const layout of ["out-first", "out-last"] as Layout[]) {
    test(`${name}, ${layout}: unit weight means stay within the drift bound for 100 steps of gc "update"`, () => {
      for (const offset of [0, 3]) expect(drift(make, D, "update", layout, offset).ratio).toBeLessThanOrEqual(1);
    });
  }
}

test('with gc "gradient", Adam moves the unit means (what "update" prevents)', () => {
  for (const layout of ["out-first", "out-last"] as Layout[]) {
    const { worst, scale } = drift(OPTIMIZERS[0][1], 4, "gradient", layout, 0);
    expect(worst).toBeGreaterThan(1e4 * U * scale);
  }
});
