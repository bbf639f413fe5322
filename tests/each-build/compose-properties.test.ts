// Lookahead and clipping on random shapes and settings (fast-check), against the float64
// references: Lookahead(Adam) trajectories, clipGradNorm's total and result, clipGradValue.
import fc from "fast-check";
import { expect, test } from "vitest";
import { Adam, clipGradNorm, clipGradValue, Lookahead } from "../../src/index.js";
import { clipGradNormReference, clipGradValueReference } from "../clip-oracle.js";
import { LookaheadReference } from "../lookahead-oracle.js";
import { AdamReference, type AdamSettings, type GcMode } from "../optim-oracle.js";
import { toleranceRatio, trajectoryError } from "../optim-fixtures.js";
import type { Layout } from "../oracle.js";
import { randomArray } from "../random.js";

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
/** One to four tensors of rank 0–4 with dims 0–9 (empty tensors and odd widths included). */
const shapes = fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 0, maxLength: 4 }), { minLength: 1, maxLength: 4 });

test("Lookahead(Adam) on random shapes, k, alpha and GC settings matches the float64 reference", () => {
  fc.assert(
    fc.property(
      fc.record({
        shapes,
        k: fc.integer({ min: 1, max: 4 }),
        alpha: fc.constantFrom(0, 0.3, 0.5, 1),
        gc: fc.constantFrom<GcMode>("gradient", "update", false),
        layout: fc.constantFrom<Layout>("out-first", "out-last"),
        seed: fc.integer({ min: 0, max: 1e6 }),
      }),
      ({ shapes: shapeList, k, alpha, gc, layout, seed }) => {
        const STEPS = 9;
        const start = shapeList.map((shape, i) => randomArray(size(shape), seed + i, 0, 0.5));
        const params = shapeList.map((shape, i) => ({ value: start[i].slice(), grad: new Float32Array(size(shape)), shape }));
        const settings: AdamSettings = {
          lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, gc, convOnly: false, layout, decoupled: false,
        };
        const opt = new Lookahead(new Adam(params, { lr: 0.01, gc, layout }), { k, alpha });
        const reference = new LookaheadReference(new AdamReference(shapeList.map((shape, i) => ({ value: Float64Array.from(start[i]), shape }))), k, alpha);
        for (let t = 0; t < STEPS; t++) {
          const grads = shapeList.map((shape, i) => randomArray(size(shape), seed + 31 * t + i, 0.2));
          params.forEach((p, i) => p.grad.set(grads[i]));
          opt.step();
          reference.step(grads, shapeList.map(() => settings));
        }
        opt.dispose();
        expect(trajectoryError(params.map((p) => p.value), reference.params, STEPS)).toBeLessThanOrEqual(1);
      },
    ),
    { numRuns: 40 },
  );
});

test("clipGradNorm on random lists, norm types and bounds matches the float64 reference", () => {
  fc.assert(
    fc.property(
      fc.record({
        shapes,
        normType: fc.constantFrom(1, 2, Infinity),
        maxNorm: fc.constantFrom(0, 0.1, 1, 10, 1e6),
        scale: fc.constantFrom(1e-3, 1, 1e3),
        seed: fc.integer({ min: 0, max: 1e6 }),
      }),
      ({ shapes: shapeList, normType, maxNorm, scale, seed }) => {
        const inputs = shapeList.map((shape, i) => randomArray(size(shape), seed + i, 0, scale));
        const grads = inputs.map((g, i) => ({ grad: g.slice(), shape: shapeList[i] }));
        const total = clipGradNorm(grads, maxNorm, { normType });
        const reference = clipGradNormReference(inputs, maxNorm, normType);
        expect(Math.abs(total - reference.total)).toBeLessThanOrEqual(1e-12 * reference.total);
        grads.forEach((g, i) => expect(toleranceRatio(g.grad, reference.clipped[i], 2 ** -23, 1e-38)).toBeLessThanOrEqual(1));
      },
    ),
    { numRuns: 60 },
  );
});

test("clipGradValue on random lists equals the reference exactly", () => {
  fc.assert(
    fc.property(shapes, fc.constantFrom(0, 0.05, 0.5, 3), fc.integer({ min: 0, max: 1e6 }), (shapeList, c, seed) => {
      const inputs = shapeList.map((shape, i) => randomArray(size(shape), seed + i, 0.1, 1));
      const grads = inputs.map((g, i) => ({ grad: g.slice(), shape: shapeList[i] }));
      clipGradValue(grads, c);
      const reference = clipGradValueReference(inputs, Math.fround(c));
      grads.forEach((g, i) => expect(Array.from(g.grad, (x) => x + 0)).toEqual(Array.from(reference[i], (x) => x + 0)));
    }),
    { numRuns: 60 },
  );
});
