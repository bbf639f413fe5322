// clipGradNorm and clipGradValue against the float64 references of torch's clip_grad_norm_ and
// clip_grad_value_, over lists mixing Tensors and { grad, shape } Float32Arrays.
import { describe, expect, test } from "vitest";
import { clipGradNorm, clipGradValue, type GradientEntry, Tensor } from "../../src/index.js";
import { runtime } from "../../src/runtime.js";
import { clipGradNormReference, clipGradValueReference, totalNormReference } from "../clip-oracle.js";
import { toleranceRatio } from "../optim-fixtures.js";
import { product } from "../oracle.js";
import { randomArray } from "../random.js";

// Odd sizes (0, 1, 3, 5, 4k + 1) and a few layers' worth of values.
const SHAPES = [[0], [1], [3], [5], [4, 5], [17], [8, 3, 3, 3], [10, 65], [129]];

/** The three accepted forms in turn: a Tensor, { grad: Float32Array, shape }, { grad: Tensor }. */
function makeEntries(inputs: Float32Array[], shapes = SHAPES): GradientEntry[] {
  return inputs.map((input, i) =>
    i % 3 === 0 ? Tensor.from(input, shapes[i]) : i % 3 === 1 ? { grad: input.slice(), shape: shapes[i] } : { grad: Tensor.from(input, shapes[i]) },
  );
}

const valuesOf = (entry: GradientEntry): Float32Array =>
  entry instanceof Tensor ? entry.data : entry.grad instanceof Tensor ? entry.grad.data : entry.grad;

function disposeAll(entries: GradientEntry[]): void {
  for (const e of entries) {
    if (e instanceof Tensor) e.dispose();
    else if (e.grad instanceof Tensor) e.grad.dispose();
  }
}

const inputsFor = (seed: number, offset = 0, scale = 1, shapes = SHAPES) =>
  shapes.map((shape, i) => randomArray(product(shape), seed + i, offset, scale));

// The total is accumulated in float64 (relative error ~ n·2⁻⁵³); float32 sums would be off by ~1e-7.
const TOTAL_RTOL = 1e-12;
// Each clipped value is g·f32(c): the rounding of c and of the product, ≤ 2·2⁻²⁴ relative.
const VALUE_RTOL = 2 ** -23;

for (const normType of [2, 1, Infinity]) {
  for (const [what, maxNorm] of [["clipped", 0.5], ["not clipped", 1e6]] as const) {
    test(`normType ${normType}, ${what}: total norm and gradients match the float64 reference`, () => {
      const inputs = inputsFor(normType === Infinity ? 7 : normType * 11, 0.2, 1.5);
      const entries = makeEntries(inputs);
      const total = clipGradNorm(entries, maxNorm, { normType });
      const reference = clipGradNormReference(inputs, maxNorm, normType);
      expect(Math.abs(total - reference.total)).toBeLessThanOrEqual(TOTAL_RTOL * reference.total);
      if (normType === Infinity) expect(total).toBe(reference.total); // a max is exact
      entries.forEach((entry, i) => {
        if (what === "not clipped") expect(valuesOf(entry)).toEqual(inputs[i]); // untouched
        else expect(toleranceRatio(valuesOf(entry), reference.clipped[i], VALUE_RTOL, 1e-38)).toBeLessThanOrEqual(1);
      });
      if (what === "clipped") {
        const after = totalNormReference(entries.map(valuesOf), normType);
        expect(after).toBeCloseTo(maxNorm, 5); // clipped to maxNorm (up to the 1e-6 and float32)
      }
      disposeAll(entries);
    });
  }
}

test("normType 2 is the default; the total of 10⁵ values of 1000 + N(0, 1) keeps float64 accuracy", () => {
  const shapes = [[50000], [250, 200]];
  const inputs = inputsFor(3, 1000, 1, shapes);
  const entries = makeEntries(inputs, shapes);
  const total = clipGradNorm(entries, 1);
  const reference = clipGradNormReference(inputs, 1, 2);
  expect(Math.abs(total - reference.total)).toBeLessThanOrEqual(TOTAL_RTOL * reference.total);
  entries.forEach((e, i) => expect(toleranceRatio(valuesOf(e), reference.clipped[i], VALUE_RTOL, 1e-38)).toBeLessThanOrEqual(1));
  disposeAll(entries);
});

test("a NaN anywhere makes the total NaN and every gradient NaN, as torch's (error_if_nonfinite=False)", () => {
  for (const normType of [2, 1, Infinity]) {
    const inputs = inputsFor(5);
    inputs[5][3] = NaN;
    const entries = makeEntries(inputs);
    expect(clipGradNorm(entries, 1, { normType })).toBeNaN();
    entries.forEach((e) => expect(Array.from(valuesOf(e)).every(Number.isNaN)).toBe(true));
    disposeAll(entries);
  }
});

test("an infinite value makes the total Infinity: finite values become 0 and the infinity NaN, as torch's", () => {
  const inputs = inputsFor(6);
  inputs[4][2] = -Infinity;
  const entries = makeEntries(inputs);
  expect(clipGradNorm(entries, 1)).toBe(Infinity);
  const reference = clipGradNormReference(inputs, 1, 2);
  entries.forEach((e, i) => expect(Array.from(valuesOf(e)).map((x) => (Object.is(x, -0) ? 0 : x))).toEqual(Array.from(reference.clipped[i]).map((x) => (Object.is(x, -0) ? 0 : x))));
  expect(Number.isNaN(valuesOf(entries[4])[2])).toBe(true);
  disposeAll(entries);
});

test("an empty list has norm 0; maxNorm 0 zeros the gradients; maxNorm Infinity only measures", () => {
  expect(clipGradNorm([], 1)).toBe(0);
  const inputs = inputsFor(8);
  const entries = makeEntries(inputs);
  const total = clipGradNorm(entries, Infinity);
  expect(Math.abs(total - totalNormReference(inputs, 2))).toBeLessThanOrEqual(TOTAL_RTOL * total);
  entries.forEach((e, i) => expect(valuesOf(e)).toEqual(inputs[i]));
  clipGradNorm(entries, 0);
  entries.forEach((e) => expect(Array.from(valuesOf(e)).every((x) => x === 0)).toBe(true));
  disposeAll(entries);
});

test("clipGradValue clamps every value to [−c, c] (c as float32), keeps NaN, returns its argument", () => {
  for (const c of [0.1, 1, 0]) {
    const inputs = inputsFor(9, 0.3, 2);
    inputs[6][10] = NaN;
    inputs[7][0] = Infinity;
    const entries = makeEntries(inputs);
    expect(clipGradValue(entries, c)).toBe(entries);
    const reference = clipGradValueReference(inputs, Math.fround(c));
    entries.forEach((e, i) => {
      const got = Array.from(valuesOf(e)).map((x) => (Object.is(x, -0) ? 0 : x));
      expect(got).toEqual(Array.from(reference[i]).map((x) => (Object.is(x, -0) ? 0 : x)));
    });
    disposeAll(entries);
  }
});

test("clipGradValue with Infinity leaves every value as it was", () => {
  const inputs = inputsFor(10);
  const entries = makeEntries(inputs);
  clipGradValue(entries, Infinity);
  entries.forEach((e, i) => expect(valuesOf(e)).toEqual(inputs[i]));
  disposeAll(entries);
});

describe("bad arguments throw, naming the function and the argument, and write nothing", () => {
  const cases: [string, (entries: GradientEntry[]) => unknown, ErrorConstructor, RegExp][] = [
    ["gradients not an array", () => clipGradNorm({} as never, 1), TypeError, /^clipGradNorm: gradients must be an array/],
    ["an entry of the wrong kind", (e) => clipGradNorm([e[0], 3 as never], 1), TypeError, /^clipGradNorm: gradients\[1\] must be a Tensor or \{ grad, shape \}/],
    ["a shape that does not match", (e) => clipGradNorm([e[0], { grad: new Float32Array(4), shape: [5] }], 1), RangeError, /^clipGradNorm: shape \[5\] has 5 elements but gradients\[1\]\.grad has 4/],
    ["a disposed Tensor", (e) => { const t = new Tensor([3]); t.dispose(); return clipGradNorm([e[0], t], 1); }, TypeError, /^clipGradNorm: gradients\[1\] is a disposed Tensor/],
    ["the same gradient twice", (e) => clipGradNorm([e[3], e[5], e[3]], 1), TypeError, /^clipGradNorm: gradients\[2\] shares memory with gradients\[0\]/],
    ["an array listed twice", (e) => clipGradValue([e[1], e[4], e[1]], 1), TypeError, /^clipGradValue: gradients\[2\]\.grad shares memory with gradients\[0\]\.grad/],
    ["maxNorm not a number", (e) => clipGradNorm(e, "1" as never), TypeError, /^clipGradNorm: maxNorm must be a number, got string/],
    ["maxNorm negative", (e) => clipGradNorm(e, -1), RangeError, /^clipGradNorm: maxNorm must be a number ≥ 0/],
    ["maxNorm NaN", (e) => clipGradNorm(e, NaN), RangeError, /^clipGradNorm: maxNorm must be a number ≥ 0/],
    ["normType 3", (e) => clipGradNorm(e, 1, { normType: 3 }), RangeError, /^clipGradNorm: options\.normType must be 2, 1 or Infinity, got 3/],
    ["normType a string", (e) => clipGradNorm(e, 1, { normType: "inf" as never }), TypeError, /^clipGradNorm: options\.normType must be a number/],
    ["an unknown option", (e) => clipGradNorm(e, 1, { norm: 2 } as never), TypeError, /^clipGradNorm: options\.norm is not an option \(known: normType\)/],
    ["options not an object", (e) => clipGradNorm(e, 1, 2 as never), TypeError, /^clipGradNorm: options must be an object/],
    ["clipValue negative", (e) => clipGradValue(e, -0.5), RangeError, /^clipGradValue: clipValue must be a number ≥ 0/],
    ["clipValue missing", (e) => clipGradValue(e, undefined as never), TypeError, /^clipGradValue: clipValue must be a number, got undefined/],
    ["clipValue's list with a bad entry", (e) => clipGradValue([e[1], null as never], 1), TypeError, /^clipGradValue: gradients\[1\] must be a Tensor/],
  ];
  test.each(cases)("%s", (_, call, type, message) => {
    const inputs = inputsFor(12, 0, 10);
    const entries = makeEntries(inputs);
    const allocated = runtime("test").memory.allocatedBytes;
    expect(() => call(entries)).toThrow(type);
    expect(() => call(entries)).toThrow(message);
    entries.forEach((e, i) => expect(valuesOf(e)).toEqual(inputs[i]));
    expect(runtime("test").memory.allocatedBytes).toBe(allocated);
    disposeAll(entries);
  });
});
