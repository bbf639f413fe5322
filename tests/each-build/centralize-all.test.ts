// centralizeAll: a whole model's gradients in one call, against the float64 oracle per tensor.
import { expect, test } from "vitest";
import { type Layout, centralizeAll, Tensor } from "../../src/index.js";
import { centralizeReference, maxAbsDiff, product } from "../oracle.js";
import { randomArray } from "../random.js";

const model = (layout: Layout) =>
  layout === "out-first"
    ? [[16, 3, 3, 3], [16], [16], [32, 16, 3, 3], [32], [10, 32 * 9], [10], [5, 7, 3]]
    : [[3, 3, 3, 16], [16], [16], [3, 3, 16, 32], [32], [32 * 9, 10], [10], [5, 7, 3]];

for (const layout of ["out-first", "out-last"] as Layout[]) {
  for (const convOnly of [false, true]) {
    test(`${layout}${convOnly ? ", convOnly" : ""}: every entry matches centralize's reference`, () => {
      const shapes = model(layout);
      const inputs = shapes.map((shape, i) => randomArray(product(shape), 100 + i, i % 3, 1 + i));
      // Mix the three accepted forms: { grad: Float32Array, shape }, { grad: Tensor }, a bare Tensor.
      const entries = inputs.map((input, i) =>
        i % 3 === 0 ? { grad: input.slice(), shape: shapes[i] } : i % 3 === 1 ? { grad: Tensor.from(input, shapes[i]) } : Tensor.from(input, shapes[i]),
      );
      expect(centralizeAll(entries, { layout, convOnly })).toBe(entries);
      entries.forEach((entry, i) => {
        const got = entry instanceof Tensor ? entry.data : entry.grad instanceof Tensor ? entry.grad.data : entry.grad;
        const expected = centralizeReference(inputs[i], shapes[i], layout, convOnly);
        expect(maxAbsDiff(got, expected), `entry ${i} ${shapes[i]}`).toBeLessThanOrEqual(1e-5 * (1 + i));
        if (shapes[i].length <= (convOnly ? 3 : 1)) expect(got).toEqual(inputs[i]);
      });
      for (const entry of entries) {
        if (entry instanceof Tensor) entry.dispose();
        else if (entry.grad instanceof Tensor) entry.grad.dispose();
      }
    });
  }
}

test("an empty list is fine", () => {
  expect(centralizeAll([])).toEqual([]);
});
