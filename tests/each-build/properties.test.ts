// Properties of P = I − eeᵀ applied per unit, checked on random shapes and values (fast-check).
import fc from "fast-check";
import { expect, test } from "vitest";
import { type Layout, centralize } from "../../src/index.js";
import { maxAbsDiff, unitIndices } from "../oracle.js";

const f32 = (n: number) => Math.fround(n);

/** A shape of rank 2–4 with small dims, its layout, and values in [−100, 100]. */
const gradient = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 2, maxLength: 4 }),
    layout: fc.constantFrom<Layout>("out-first", "out-last"),
  })
  .chain(({ shape, layout }) =>
    fc.record({
      shape: fc.constant(shape),
      layout: fc.constant(layout),
      values: fc
        .array(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }), {
          minLength: shape.reduce((a, b) => a * b, 1),
          maxLength: shape.reduce((a, b) => a * b, 1),
        })
        .map((v) => Float32Array.from(v)),
    }),
  );

test("idempotent: GC(GC(g)) = GC(g)", () => {
  fc.assert(
    fc.property(gradient, ({ shape, layout, values }) => {
      const once = centralize(values.slice(), shape, { layout });
      const twice = centralize(once.slice(), shape, { layout });
      expect(maxAbsDiff(twice, once)).toBeLessThanOrEqual(1e-4);
    }),
  );
});

test("every output unit's mean is 0", () => {
  fc.assert(
    fc.property(gradient, ({ shape, layout, values }) => {
      const g = centralize(values.slice(), shape, { layout });
      for (const unit of unitIndices(shape, layout)) {
        const mean = unit.reduce((a, i) => a + g[i], 0) / unit.length;
        expect(Math.abs(mean)).toBeLessThanOrEqual(1e-4);
      }
    }),
  );
});

test("linear: GC(a·x + y) = a·GC(x) + GC(y)", () => {
  fc.assert(
    fc.property(gradient, fc.float({ min: -4, max: 4, noNaN: true }), ({ shape, layout, values }, a) => {
      const y = values.map((v, i) => f32(values[(i * 7 + 3) % values.length] - v / 2));
      const combined = centralize(values.map((x, i) => f32(a * x) + y[i]), shape, { layout });
      const gx = centralize(values.slice(), shape, { layout });
      const gy = centralize(y.slice(), shape, { layout });
      const expected = gx.map((v, i) => a * v + gy[i]);
      expect(maxAbsDiff(combined, expected)).toBeLessThanOrEqual(1e-3);
    }),
  );
});

test("rank ≤ 1 is untouched, in both layouts and with convOnly", () => {
  fc.assert(
    fc.property(
      fc.array(fc.float({ noNaN: true }), { maxLength: 40 }),
      fc.constantFrom<Layout>("out-first", "out-last"),
      fc.boolean(),
      (list, layout, convOnly) => {
        const values = Float32Array.from(list);
        const g = values.slice();
        centralize(g, [g.length], { layout, convOnly });
        expect(g).toEqual(values);
        if (g.length === 1) expect(centralize(g, [], { layout })).toEqual(values);
      },
    ),
  );
});
