// gradientStats against the float64 reference.
import { expect, test } from "vitest";
import { type Layout, centralize, gradientStats, Tensor } from "../../src/index.js";
import { product, statsReference } from "../oracle.js";
import { randomArray } from "../random.js";

function expectStats(actual: ReturnType<typeof gradientStats>, expected: ReturnType<typeof statsReference>) {
  expect(actual.units).toBe(expected.units);
  for (const key of ["count", "mean", "std", "min", "max"] as const) {
    const got = Array.from(actual[key]);
    expected[key].forEach((v, i) => {
      if (Number.isNaN(v)) expect(got[i], `${key}[${i}]`).toBeNaN();
      else expect(got[i], `${key}[${i}]`).toBeCloseTo(v, 9);
    });
  }
  expect([actual.nan, actual.posInf, actual.negInf]).toEqual([expected.nan, expected.posInf, expected.negInf]);
}

for (const layout of ["out-first", "out-last"] as Layout[]) {
  test.each([[[7]], [[]], [[4, 9]], [[6, 3, 3, 2]], [[3, 3, 4, 5]], [[0, 4]]])(`${layout}: shape %j`, (shape) => {
    const input = randomArray(product(shape), 3, 2, 3);
    expectStats(gradientStats(input, shape, { layout }), statsReference(input, shape, layout));
  });

  test(`${layout}: non-finite values are counted and left out of the unit statistics`, () => {
    const input = randomArray(5 * 6, 8);
    input[0] = NaN;
    input[7] = Infinity;
    input[13] = -Infinity;
    input[14] = -Infinity;
    const lastUnit = layout === "out-first" ? [24, 25, 26, 27, 28, 29] : [5, 11, 17, 23, 29];
    for (const i of lastUnit) input[i] = NaN; // a unit with no finite value: mean, std, min, max are NaN
    const stats = gradientStats(input, [5, 6], { layout });
    expectStats(stats, statsReference(input, [5, 6], layout));
    expect(stats.count[stats.units - 1]).toBe(0);
    expect(stats.mean[stats.units - 1]).toBeNaN();
  });
}

test("after GC every unit's mean is ~0 while std is unchanged", () => {
  const input = randomArray(32 * 27, 5, 4, 2);
  const t = Tensor.from(input, [32, 3, 3, 3]);
  const before = gradientStats(t);
  centralize(t);
  const after = gradientStats(t);
  for (let u = 0; u < 32; u++) {
    expect(Math.abs(before.mean[u])).toBeGreaterThan(1);
    expect(Math.abs(after.mean[u])).toBeLessThan(1e-6);
    expect(after.std[u]).toBeCloseTo(before.std[u], 5);
  }
  expect(gradientStats(input, [32, 27]).mean).toEqual(before.mean); // Float32Array path agrees
  t.dispose();
});
