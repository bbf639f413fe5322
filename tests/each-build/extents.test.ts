// Extents at the edges of 32-bit linear memory (issue 10 items 7 and 8), under the build this
// project runs: empty tensors return at once whatever their other dims and never grow memory;
// loop counters cannot overflow; a shape no 32-bit memory can hold is a RangeError naming the
// function and the shape, thrown before anything is written; scratch is sized by the work done.
import { describe, expect, test } from "vitest";
import { Adam, centralize, centralizeAll, gradientStats, SGD, Tensor } from "../../src/index.js";
import { runtime } from "../../src/runtime.js";
import { centralizeReference, maxAbsDiff } from "../oracle.js";
import { randomArray } from "../random.js";

const memoryBytes = () => runtime("test").memory.byteLength;
const I32_MAX = 2147483647;

describe("empty tensors return at once and leave linear memory as it was", () => {
  test("centralize of [2147483647, 0] out-last (the counter r += 16 overflowed i32: it never returned)", () => {
    const g = new Float32Array(0);
    const before = memoryBytes();
    expect(centralize(g, [I32_MAX, 0], { layout: "out-last" })).toBe(g);
    expect(centralize(g, [0, I32_MAX], { layout: "out-last" })).toBe(g);
    expect(centralize(g, [I32_MAX, 0, 3])).toBe(g);
    expect(memoryBytes()).toBe(before);
  });

  test("centralize and centralizeAll of [0, 2**26] out-last grow nothing (they took 1 GiB of scratch)", () => {
    const before = memoryBytes();
    const g = new Float32Array(0);
    centralize(g, [0, 2 ** 26], { layout: "out-last" });
    centralizeAll([{ grad: g, shape: [0, 2 ** 26] }, { grad: g, shape: [2 ** 26, 0, 5] }], { layout: "out-last" });
    expect(memoryBytes()).toBe(before);
  });

  test("an empty Tensor of huge dims: made, centralized and disposed without growing memory", () => {
    const before = memoryBytes();
    const t = new Tensor([0, 2 ** 26]);
    expect(t.data.length).toBe(0);
    centralize(t, { layout: "out-last" });
    centralizeAll([t], { layout: "out-last" });
    t.dispose();
    expect(memoryBytes()).toBe(before);
  });

  test("gradientStats of [2**22, 0]: 2**22 empty units from JavaScript, no linear memory (it took 256 MiB)", () => {
    const before = memoryBytes();
    const stats = gradientStats(new Float32Array(0), [2 ** 22, 0]);
    expect(memoryBytes()).toBe(before);
    expect(stats.units).toBe(2 ** 22);
    expect(stats.count.every((n) => n === 0)).toBe(true);
    for (const field of [stats.mean, stats.std, stats.min, stats.max]) expect(field.every(Number.isNaN)).toBe(true);
    expect([stats.nan, stats.posInf, stats.negInf]).toEqual([0, 0, 0]);
    const columns = gradientStats(new Float32Array(0), [0, 5], { layout: "out-last" });
    expect(columns.units).toBe(5);
    expect(Array.from(columns.count)).toEqual([0, 0, 0, 0, 0]);
  }, 60_000); // 2²² units are 160 MiB of JavaScript results: slow on a loaded machine, not a timing check

  test("an optimizer step over an empty [0, 2**26] out-last parameter takes no scratch for its width", () => {
    const before = memoryBytes();
    for (const make of [(p: never) => new SGD(p, { lr: 0.1, momentum: 0.9, layout: "out-last" }), (p: never) => new Adam(p, { gc: "update", layout: "out-last" })]) {
      const opt = make([{ value: new Float32Array(0), grad: new Float32Array(0), shape: [0, 2 ** 26] }] as never);
      opt.step();
      opt.step();
      opt.dispose();
    }
    // State buffers of an empty parameter take the allocator's 16-byte minimum: at most one page of growth.
    expect(memoryBytes() - before).toBeLessThanOrEqual(65536);
  });

  test("the kernels return at once on 0 rows or 0 columns whatever the other extent", () => {
    const { kernels } = runtime("test");
    kernels.centralizeColumns(0, I32_MAX, 0, 0);
    kernels.centralizeColumns(0, 0, I32_MAX, 0);
    kernels.centralizeColumns(0, 2147483632, 0, 0); // took 10 s: 2²⁷ empty blocks of 16 rows
    kernels.centralizeRows(0, I32_MAX, 0);
    kernels.centralizeRows(0, 0, I32_MAX);
    expect(kernels.columnScratchBytes(0)).toBe(0);
  });
});

describe("shapes past 32-bit linear memory are a RangeError naming the function and the shape", () => {
  const huge = [65536, 65536, 2];
  test("new Tensor", () => {
    const before = memoryBytes();
    expect(() => new Tensor(huge)).toThrow(new RangeError(
      "new Tensor: shape [65536, 65536, 2] has 8589934592 values, more than 32-bit linear memory can hold (at most 1073725440 float32 values)",
    ));
    expect(() => new Tensor([2 ** 30])).toThrow(/^new Tensor: shape \[1073741824\] has 1073741824 values, more than 32-bit linear memory/);
    expect(memoryBytes()).toBe(before);
  });

  test("gradientStats of an empty shape with more units than a tensor can have", () => {
    expect(() => gradientStats(new Float32Array(0), [2 ** 31, 0])).toThrow(
      /^gradientStats: shape \[2147483648, 0\] has 2147483648 units, more than the 1073725440 a tensor can have$/,
    );
  });

  test("optimizers name the parameter's shape", () => {
    const value = new Float32Array(4);
    expect(() => new SGD([{ value, grad: new Float32Array(4), shape: huge }], { lr: 0.1 })).toThrow(
      /^new SGD: params\[0\]\.shape \[65536, 65536, 2\] has 8589934592 values, more than 32-bit linear memory can hold/,
    );
  });

  test("a Float32Array with a huge shape is refused by name, and nothing is written", () => {
    const g = randomArray(8, 1);
    const copy = g.slice();
    for (const call of [
      () => centralize(g, huge),
      () => centralizeAll([{ grad: g, shape: huge }]),
      () => gradientStats(g, huge),
    ]) {
      expect(call).toThrow(RangeError);
      expect(call).toThrow(/shape \[65536, 65536, 2\]/);
    }
    expect(g).toEqual(copy);
  });
});

describe("wide out-last tensors: centralized 4096 columns at a time, 64 KiB of scratch", () => {
  test.each([
    [3, 4096],
    [5, 4097],
    [17, 9000],
    [1, 12289],
  ])("[%i, %i] matches the float64 oracle", (rows, cols) => {
    const input = randomArray(rows * cols, rows * cols, 100, 1);
    const g = input.slice();
    centralize(g, [rows, cols], { layout: "out-last" });
    expect(maxAbsDiff(g, centralizeReference(input, [rows, cols], "out-last"))).toBeLessThanOrEqual(101 * 2 ** -22);
    const entries = [{ grad: input.slice(), shape: [rows, cols] }, { grad: input.slice(), shape: [cols, rows] }];
    centralizeAll(entries, { layout: "out-last" });
    expect(maxAbsDiff(entries[0].grad, centralizeReference(input, [rows, cols], "out-last"))).toBeLessThanOrEqual(101 * 2 ** -22);
    expect(maxAbsDiff(entries[1].grad, centralizeReference(input, [cols, rows], "out-last"))).toBeLessThanOrEqual(101 * 2 ** -22);
  });

  test("a [1, 2**20] out-last Tensor (4 MiB) takes at most 64 KiB of scratch (it took 16 MiB)", () => {
    const { kernels } = runtime("test");
    expect(kernels.columnScratchBytes(2 ** 20)).toBe(65536);
    const t = new Tensor([1, 2 ** 20]);
    t.data.fill(3);
    const before = memoryBytes();
    centralize(t, { layout: "out-last" });
    expect(memoryBytes() - before).toBeLessThanOrEqual(2 * 65536);
    expect(t.data.every((x) => x === 0)).toBe(true);
    t.dispose();
  });

  test("gradientStats of many units writes them 1024 at a time (same results as the oracle's)", () => {
    const input = randomArray(3000 * 3, 7, 1, 2);
    for (const [shape, layout] of [[[3000, 3], "out-first"], [[3, 3000], "out-last"]] as const) {
      const stats = gradientStats(input, [...shape], { layout });
      expect(stats.units).toBe(3000);
      for (const u of [0, 1023, 1024, 2047, 2048, 2999]) {
        const values = layout === "out-first" ? Array.from(input.subarray(u * 3, u * 3 + 3)) : [0, 1, 2].map((r) => input[r * 3000 + u]);
        const mean = values.reduce((a, b) => a + b, 0) / 3;
        expect(stats.count[u]).toBe(3);
        expect(stats.mean[u]).toBeCloseTo(mean, 12);
        expect(stats.min[u]).toBe(Math.min(...values));
        expect(stats.max[u]).toBe(Math.max(...values));
      }
    }
  });
});
