// centralize() against the float64 oracle, under the build this project runs.
import { describe, expect, test } from "vitest";
import { type Layout, centralize, Tensor } from "../../src/index.js";
import { centralizeReference, maxAbsDiff, product } from "../oracle.js";
import { randomArray } from "../random.js";

const layouts: Layout[] = ["out-first", "out-last"];

/** |kernel − oracle| ≤ 2 float32 ulps of the larger of the value and the input's magnitude. */
function expectClose(actual: Float32Array, input: Float32Array, shape: number[], layout: Layout, convOnly = false) {
  const expected = centralizeReference(input, shape, layout, convOnly);
  let scale = 1;
  for (const x of input) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
  expect(maxAbsDiff(actual, expected)).toBeLessThanOrEqual(scale * 2 ** -22);
}

describe("named cases", () => {
  test("1d: a bias is unchanged", () => {
    const g = new Float32Array([1, 2, 3]);
    expect(Array.from(centralize(g, [3]))).toEqual([1, 2, 3]);
  });
  test("2d out-first: each row minus its mean", () => {
    expect(Array.from(centralize(new Float32Array([1, 2, 3, 4, 5, 9]), [2, 3]))).toEqual([-1, 0, 1, -2, -1, 3]);
  });
  test("2d out-last: each column minus its mean", () => {
    const g = new Float32Array([1, 4, 2, 5, 3, 9]);
    expect(Array.from(centralize(g, [3, 2], { layout: "out-last" }))).toEqual([-1, -2, 0, -1, 1, 3]);
  });
  test("3d out-first: a unit is everything after axis 0", () => {
    const g = new Float32Array([0, 1, 2, 3, 10, 10, 10, 14]);
    expect(Array.from(centralize(g, [2, 2, 2]))).toEqual([-1.5, -0.5, 0.5, 1.5, -1, -1, -1, 3]);
  });
  test("returns the same Float32Array it was given (in place)", () => {
    const g = new Float32Array([1, 2, 3, 4]);
    expect(centralize(g, [2, 2])).toBe(g);
  });
});

const shapes: number[][] = [
  [], [0], [1], [7],
  [2, 3], [3, 5], [17, 4], [5, 1025], [1025, 3], [1, 9], [9, 1], [0, 5], [5, 0],
  [4, 3, 5], [2, 13, 3],
  [8, 3, 3, 3], [16, 5, 3, 3], [3, 3, 5, 16],
  [2, 3, 2, 3, 5], [3, 1, 4, 1, 5],
];

describe.each(layouts)("%s against the float64 oracle", (layout) => {
  test.each(shapes.map((s) => [s.length ? s.join("×") : "scalar", s] as const))("shape %s", (_, shape) => {
    const input = randomArray(product(shape), shape.length * 31 + shape[0] || 1, 0.5, 2);
    const grad = input.slice();
    centralize(grad, shape, { layout });
    if (shape.length <= 1) expect(grad).toEqual(input);
    else expectClose(grad, input, shape, layout);
  });

  test.each([0, 1, 3, 4, 5, 8, 9, 17, 1025])("unit length %i (tails not divisible by 4)", (n) => {
    const shape = layout === "out-first" ? [6, n] : [n, 6];
    const input = randomArray(6 * n, n + 1, -3);
    const grad = input.slice();
    centralize(grad, shape, { layout });
    expectClose(grad, input, shape, layout);
  });

  test.each([1, 3, 5, 9, 13])("%i output units (column tails)", (units) => {
    const shape = layout === "out-first" ? [units, 33] : [33, units];
    const input = randomArray(33 * units, units, 1);
    const grad = input.slice();
    centralize(grad, shape, { layout });
    expectClose(grad, input, shape, layout);
  });

  test("convOnly touches rank > 3 only", () => {
    for (const shape of [[4, 6], [4, 3, 2], [4, 3, 2, 2], [2, 3, 2, 2, 2]]) {
      const input = randomArray(product(shape), shape.length, 2);
      const grad = input.slice();
      centralize(grad, shape, { layout, convOnly: true });
      if (shape.length <= 3) expect(grad).toEqual(input);
      else expectClose(grad, input, shape, layout, true);
    }
  });

  test("large common offset: rows of 1000 + N(0, 1) match float64 within 5e-7", () => {
    for (const shape of [[64, 1025], [32, 4608], [1025, 64]]) {
      const input = randomArray(product(shape), 7, 1000, 1);
      const grad = input.slice();
      centralize(grad, shape, { layout });
      expect(maxAbsDiff(grad, centralizeReference(input, shape, layout))).toBeLessThanOrEqual(5e-7);
    }
  });

  test("the 5e-7 bound is meaningful: a float32 running-sum mean misses it by far", () => {
    const input = randomArray(32 * 4608, 7, 1000, 1);
    const naive = input.slice();
    for (let r = 0; r < 32; r++) {
      const row = naive.subarray(r * 4608, (r + 1) * 4608);
      let sum = Math.fround(0);
      for (const x of row) sum = Math.fround(sum + x);
      const mean = Math.fround(sum / 4608);
      for (let i = 0; i < row.length; i++) row[i] = Math.fround(row[i] - mean);
    }
    expect(maxAbsDiff(naive, centralizeReference(input, [32, 4608]))).toBeGreaterThan(5e-5);
  });

  test("NaN and ±Inf propagate as in the reference", () => {
    const shape = layout === "out-first" ? [4, 6] : [6, 4];
    const input = randomArray(24, 3);
    input[layout === "out-first" ? 2 : 8] = NaN; // unit 0 holds a NaN (out-last: column 0)
    input[layout === "out-first" ? 7 : 5] = Infinity; // unit 1 holds +Inf
    input[layout === "out-first" ? 14 : 6] = -Infinity; // unit 2 holds −Inf
    const grad = input.slice();
    centralize(grad, shape, { layout });
    const expected = centralizeReference(input, shape, layout);
    expect(maxAbsDiff(grad, expected)).toBeLessThanOrEqual(1e-6);
    expect(Array.from(grad).filter(Number.isNaN).length).toBe(Array.from(expected).filter(Number.isNaN).length);
  });
});

describe("operands", () => {
  test("a Tensor is centralized in place and equals the Float32Array path bit for bit", () => {
    for (const layout of layouts) {
      const input = randomArray(6 * 37, 11, 3);
      const tensor = Tensor.from(input, [6, 37]);
      expect(centralize(tensor, { layout })).toBe(tensor);
      expect(tensor.data).toEqual(centralize(input.slice(), [6, 37], { layout }));
      tensor.dispose();
    }
  });

  test("views at every byte offset: subarrays of a larger array and unaligned views of linear memory", () => {
    const backing = randomArray(4 * 64 + 3, 5, 10);
    for (const offset of [0, 1, 2, 3]) {
      for (const layout of layouts) {
        const input = backing.slice(offset, offset + 4 * 64);
        const outside = backing.slice().subarray(offset, offset + 4 * 64);
        centralize(outside, [4, 64], { layout });
        expectClose(outside, input, [4, 64], layout);

        const host = Tensor.from(backing, [backing.length]);
        const inside = new Float32Array(host.data.buffer, host.byteOffset + offset * 4, 4 * 64);
        centralize(inside, [4, 64], { layout });
        expectClose(host.data.subarray(offset, offset + 4 * 64), input, [4, 64], layout);
        expect(host.data.subarray(0, offset)).toEqual(backing.subarray(0, offset)); // neighbours untouched
        host.dispose();
      }
    }
  });

  test("aliasing: centralizing a tensor twice changes nothing the second time (P² = P)", () => {
    const t = Tensor.from(randomArray(8 * 27, 2, 5), [8, 3, 3, 3]);
    const once = centralize(t).data.slice();
    centralize(t);
    expect(maxAbsDiff(t.data, once)).toBeLessThanOrEqual(1e-6);
    t.dispose();
  });
});
