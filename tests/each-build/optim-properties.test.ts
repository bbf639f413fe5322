// The optimizers on random shapes, layouts and hyperparameters (fast-check): every run matches
// the float64 reference within the trajectory tolerance, and gc "update" keeps the unit means.
import fc from "fast-check";
import { expect, test } from "vitest";
import { Adam, AdamW, SGD } from "../../src/index.js";
import { AdamReference, type AdamSettings, type GcMode, SgdReference, type SgdSettings } from "../optim-oracle.js";
import { trajectoryError } from "../optim-fixtures.js";
import { type Layout, unitIndices } from "../oracle.js";
import { randomArray } from "../random.js";

const STEPS = 8;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Two to four parameters of rank 0–4 with dims 1–9 (odd widths exercise the scalar tails). */
const shapes = fc.array(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 4 }), { minLength: 2, maxLength: 4 });
const common = {
  gc: fc.constantFrom<GcMode>("gradient", "update", false),
  layout: fc.constantFrom<Layout>("out-first", "out-last"),
  convOnly: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
  offset: fc.constantFrom(0, 0.5, 10),
};

function run(
  shapeList: number[][],
  seed: number,
  offset: number,
  make: (params: { value: Float32Array; grad: Float32Array; shape: number[] }[]) => SGD | Adam | AdamW,
  reference: SgdReference | AdamReference,
  step: (grads: Float32Array[]) => void,
) {
  const params = shapeList.map((shape, i) => ({
    value: Float32Array.from(reference.params[i].value),
    grad: new Float32Array(size(shape)),
    shape,
  }));
  const opt = make(params);
  for (let t = 0; t < STEPS; t++) {
    const grads = shapeList.map((shape, i) => randomArray(size(shape), seed + 97 * t + i, offset));
    params.forEach((p, i) => p.grad.set(grads[i]));
    opt.step();
    step(grads);
  }
  opt.dispose();
  return params.map((p) => p.value);
}

const startingPoint = (shapeList: number[][], seed: number) =>
  shapeList.map((shape, i) => ({ value: Float64Array.from(randomArray(size(shape), seed - i - 1, 0, 0.5)), shape }));

test("SGD on random shapes and hyperparameters matches the float64 reference", () => {
  fc.assert(
    fc.property(
      fc.record({
        shapes,
        ...common,
        lr: fc.constantFrom(0.01, 0.1),
        momentum: fc.constantFrom(0, 0.5, 0.9),
        dampening: fc.constantFrom(0, 0.3),
        nesterov: fc.boolean(),
        weightDecay: fc.constantFrom(0, 0.01),
      }),
      ({ shapes: shapeList, seed, offset, ...h }) => {
        const settings: SgdSettings = { ...h, nesterov: h.nesterov && h.momentum > 0, dampening: h.nesterov ? 0 : h.dampening };
        const reference = new SgdReference(startingPoint(shapeList, seed));
        const values = run(shapeList, seed, offset, (p) => new SGD(p, settings), reference, (g) =>
          reference.step(g, shapeList.map(() => settings)),
        );
        expect(trajectoryError(values, reference.params, STEPS)).toBeLessThanOrEqual(1);
      },
    ),
    { numRuns: 40 },
  );
});

test("Adam and AdamW on random shapes and hyperparameters match the float64 reference", () => {
  fc.assert(
    fc.property(
      fc.record({
        shapes,
        ...common,
        decoupled: fc.boolean(),
        lr: fc.constantFrom(1e-3, 0.01),
        betas: fc.constantFrom<[number, number]>([0.9, 0.999], [0.5, 0.9], [0, 0.99]),
        eps: fc.constantFrom(1e-8, 1e-3),
        weightDecay: fc.constantFrom(0, 0.05),
        amsgrad: fc.boolean(),
      }),
      ({ shapes: shapeList, seed, offset, decoupled, ...h }) => {
        const settings: AdamSettings = { ...h, decoupled };
        const reference = new AdamReference(startingPoint(shapeList, seed));
        const Kind = decoupled ? AdamW : Adam;
        const values = run(shapeList, seed, offset, (p) => new Kind(p, h), reference, (g) =>
          reference.step(g, shapeList.map(() => settings)),
        );
        expect(trajectoryError(values, reference.params, STEPS)).toBeLessThanOrEqual(1);
      },
    ),
    { numRuns: 40 },
  );
});

test('gc "update" keeps every centralized unit\'s weight mean (random shapes, AdamW with decay)', () => {
  fc.assert(
    fc.property(fc.record({ shapes, layout: common.layout, seed: common.seed }), ({ shapes: shapeList, layout, seed }) => {
      const start = startingPoint(shapeList, seed);
      const reference = new AdamReference(start.map((p) => ({ ...p, value: Float64Array.from(p.value) })));
      // Σₜ‖wₜ‖∞ and Σₜ‖Δₜ‖∞ per parameter, for the drift bound (README "Accuracy of the optimizers").
      const maxAbs = (x: ArrayLike<number>) => {
        let m = 0;
        for (let j = 0; j < x.length; j++) m = Math.max(m, Math.abs(x[j]));
        return m;
      };
      const sumW = shapeList.map(() => 0);
      const sumStep = shapeList.map(() => 0);
      let live: { value: Float32Array }[] = [];
      let previous = start.map((p) => Float32Array.from(p.value));
      const values = run(shapeList, seed, 0.5, (p) => ((live = p), new AdamW(p, { lr: 0.01, weightDecay: 0.1, gc: "update", layout })), reference, () => {
        live.forEach((p, i) => {
          sumW[i] += Math.max(maxAbs(previous[i]), maxAbs(p.value));
          sumStep[i] += maxAbs(p.value.map((v, j) => v - previous[i][j]));
        });
        previous = live.map((p) => p.value.slice());
      });
      shapeList.forEach((shape, i) => {
        if (shape.length < 2) return;
        for (const unit of unitIndices(shape, layout)) {
          const mean = (x: ArrayLike<number>) => unit.reduce((s, j) => s + x[j], 0) / unit.length;
          expect(Math.abs(mean(values[i]) - mean(start[i].value))).toBeLessThanOrEqual(2 ** -24 * (sumW[i] + 4 * sumStep[i]));
        }
      });
    }),
    { numRuns: 40 },
  );
});
