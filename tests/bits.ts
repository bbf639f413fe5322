// Equality of float32 results bit for bit (Object.is per value: −0 ≠ +0, NaN = NaN).
import { expect } from "vitest";

/** Fails at the first value of `actual` whose bits differ from `expected`'s, naming it `what[i]`. */
export function expectBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) expect(`${what}[${i}] = ${actual[i]}`).toBe(`${what}[${i}] = ${expected[i]}`);
  }
}
