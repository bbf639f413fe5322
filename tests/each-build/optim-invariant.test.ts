// gc "update" keeps every output unit's weight mean where it started: eᵀ(w − w⁰) = 0.
//
// In float32 this holds up to rounding: each step adds a centered Δ (its unit mean is 0 up to the
// float32 rounding of each centered value, ≤ u·|Δ|) and rounds each w + Δ once (≤ u·|w|, u = 2⁻²⁴).
// The worst case over T steps is T·2u·max|w| (a drift of 200 u·max|w| for T = 100); the roundings
// are independent in sign, so in practice the mean moves like a random walk, √T·u·max|w|, which is
// what we assert (measured: at most 2.5 u·max|w| for T = 100, weights |w| up to ~5, both builds).
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

const OPTIMIZERS: [string, Make][] = [
  ["Adam", (p, o) => new Adam(p, { lr: 0.01, ...o })],
  ["Adam, L2, amsgrad", (p, o) => new Adam(p, { lr: 0.01, weightDecay: 0.1, amsgrad: true, ...o })],
  ["AdamW (decay included in the step)", (p, o) => new AdamW(p, { lr: 0.01, weightDecay: 0.1, ...o })],
  ["SGD, nesterov", (p, o) => new SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true, ...o })],
  // every newer rule with the options that use all its state, L2 (Lion: decoupled decay) included
  ...RULES.map((rule): [string, Make] => [`${rule.name} ${JSON.stringify(rule.full)}`, (p, o) => rule.make(p, { ...rule.full, ...o })]),
];

function unitMeans(w: Float32Array, shape: number[], layout: Layout): number[] {
  return unitIndices(shape, layout).map((unit) => unit.reduce((sum, i) => sum + w[i], 0) / unit.length);
}

/** Largest change of a unit mean (float64) over 100 steps, and the largest |w|. */
function drift(make: Make, gc: "gradient" | "update", layout: Layout, weightOffset: number) {
  const params = SHAPES.map((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return { value: randomArray(size, 100 + i, weightOffset, 0.5), grad: new Float32Array(size), shape };
  });
  const before = params.map((p) => unitMeans(p.value, p.shape, layout));
  const opt = make(params, { gc, layout });
  for (let t = 0; t < STEPS; t++) {
    params.forEach((p, i) => p.grad.set(randomArray(p.grad.length, t * 7 + i, 0.5, 1)));
    opt.step();
  }
  opt.dispose();
  let worst = 0;
  let scale = 0;
  params.forEach((p, i) => {
    unitMeans(p.value, p.shape, layout).forEach((m, u) => (worst = Math.max(worst, Math.abs(m - before[i][u]))));
    for (const x of p.value) scale = Math.max(scale, Math.abs(x));
  });
  return { worst, scale };
}

for (const [name, make] of OPTIMIZERS) {
  for (const layout of ["out-first", "out-last"] as Layout[]) {
    test(`${name}, ${layout}: unit weight means stay put for 100 steps of gc "update"`, () => {
      for (const offset of [0, 3]) {
        const { worst, scale } = drift(make, "update", layout, offset);
        expect(worst).toBeLessThanOrEqual(Math.sqrt(STEPS) * U * scale);
      }
    });
  }
}

test('with gc "gradient", Adam moves the unit means (what "update" prevents)', () => {
  for (const layout of ["out-first", "out-last"] as Layout[]) {
    const { worst, scale } = drift(OPTIMIZERS[0][1], "gradient", layout, 0);
    expect(worst).toBeGreaterThan(1e4 * U * scale);
  }
});
