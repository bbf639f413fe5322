import { expect, test } from "vitest";
import { centralize } from "../../src/index.js";

test("2d out-first", () => {
  expect(Array.from(centralize(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]))).toEqual([-1, 0, 1, -1, 0, 1]);
});
