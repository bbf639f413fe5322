// layout: { unitAxis: k } — a tensor as an [outer, units, inner] view — in centralize,
// centralizeAll and gradientStats, against the float64 oracle, under the build this project runs.
import { describe, expect, test } from "vitest";
import { Adam, centralize, centralizeAll, gradientStats, type Layout, Tensor } from "../../src/index.js";
import { runtime } from "../../src/runtime.js";
import { disposedAfterEach, expectRefused } from "../hostile-fixtures.js";
import { centralizeReference, maxAbsDiff, product, statsReference, unitIndices } from "../oracle.js";
import { randomArray } from "../random.js";

const { tensor } = disposedAfterEach();

/** |kernel − oracle| ≤ 2 float32 ulps of the largest |input| (as tests/each-build/centralize.test.ts). */
function expectClose(actual: Float32Array, input: Float32Array, shape: number[], layout: Layout) {
  const expected = centralizeReference(input, shape, layout);
  let scale = 1;
  for (const x of input) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
  expect(maxAbsDiff(actual, expected)).toBeLessThanOrEqual(scale * 2 ** -22);
}

const bitsOf = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

/** Every axis of `shape`, as k and as k − rank. */
const axesOf = (shape: number[]) => shape.flatMap((_, k) => [k, k - shape.length]);

const SHAPES: number[][] = [
  [3, 4, 5], [2, 3, 4, 5], [3, 3, 8, 16], [4, 1, 3], [6, 7], [2, 9, 1, 5], [5, 3, 1], [1, 6, 4], [3, 2, 2, 2, 3],
  [4, 5, 33], // inner 33: SIMD blocks of 8 and 4 and a scalar tail per row
];

describe("centralize with { unitAxis } against the float64 oracle", () => {
  for (const shape of SHAPES) {
    test.each(axesOf(shape))(`[${shape.join(", ")}] unitAxis %i`, (k) => {
      const input = randomArray(product(shape), 11 + k * 7 + shape.length, 0.7, 2);
      const grad = input.slice();
      centralize(grad, shape, { layout: { unitAxis: k } });
      expectClose(grad, input, shape, { unitAxis: k });
      // every unit's mean is 0, whatever the axis
      for (const unit of unitIndices(shape, { unitAxis: k })) {
        const mean = unit.reduce((s, i) => s + grad[i], 0) / unit.length;
        expect(Math.abs(mean)).toBeLessThan(1e-5);
      }
    });
  }

  test("a named case: [2, 2, 2] with unitAxis 1 (unit u is x[:, u, :])", () => {
    // x[o, u, i] = values; unit 0: {0, 1, 4, 5}, unit 1: {2, 3, 6, 7} (flat indices)
    const g = new Float32Array([1, 2, 10, 20, 3, 6, 30, 60]);
    centralize(g, [2, 2, 2], { layout: { unitAxis: 1 } });
    expect(Array.from(g)).toEqual([-2, -1, -20, -10, 0, 3, 0, 30]);
  });

  test("Conv2DTranspose [3, 3, 8, 16], unitAxis -2, as a Tensor: 8 units of 144 values", () => {
    const shape = [3, 3, 8, 16];
    const input = randomArray(product(shape), 5, 3, 1);
    const t = tensor(input, shape);
    centralize(t, { layout: { unitAxis: -2 } });
    expectClose(t.data, input, shape, { unitAxis: -2 });
    expect(unitIndices(shape, { unitAxis: -2 }).map((u) => u.length)).toEqual(Array(8).fill(144));
  });

  test("more units than one chunk (5000 units between outer 3 and inner 2): bounded scratch, same result", () => {
    const shape = [3, 5000, 2];
    const input = randomArray(product(shape), 9, -1, 1);
    const grad = input.slice();
    centralize(grad, shape, { layout: { unitAxis: 1 } });
    expectClose(grad, input, shape, { unitAxis: 1 });
  });

  test("non-finite values stay in their unit: NaN and +Inf reach only their own unit's values", () => {
    const shape = [2, 3, 4];
    const input = randomArray(24, 3);
    input[5] = NaN; // o 0, u 1, i 1
    input[20] = Infinity; // o 1, u 2, i 0
    const grad = input.slice();
    centralize(grad, shape, { layout: { unitAxis: 1 } });
    const [u0, u1, u2] = unitIndices(shape, { unitAxis: 1 });
    expect(u0.every((i) => Number.isFinite(grad[i]))).toBe(true);
    expect(u1.every((i) => Number.isNaN(grad[i]))).toBe(true);
    expect(u2.every((i) => !Number.isFinite(grad[i]))).toBe(true); // x − Inf = −Inf, Inf − Inf = NaN
    expectClose(grad, input, shape, { unitAxis: 1 });
  });

  test("shapes with a dim of 0 are left alone on every axis", () => {
    for (const shape of [[0, 3, 4], [3, 0, 4], [3, 4, 0], [2, 0]]) {
      for (const k of axesOf(shape)) {
        const g = new Float32Array(0);
        expect(centralize(g, shape, { layout: { unitAxis: k } })).toBe(g);
      }
    }
  });

  test("rank ≤ 1 is never centralized, whatever the axis (no range check either)", () => {
    for (const k of [0, -1, 5, -9]) {
      const g = new Float32Array([1, 2, 3]);
      centralize(g, [3], { layout: { unitAxis: k } });
      expect(Array.from(g)).toEqual([1, 2, 3]);
    }
  });

  test("convOnly with { unitAxis }: rank 3 untouched, rank 4 centralized on its axis", () => {
    const input3 = randomArray(60, 1);
    const g3 = input3.slice();
    centralize(g3, [3, 4, 5], { layout: { unitAxis: 1 }, convOnly: true });
    expect(bitsOf(g3)).toEqual(bitsOf(input3));
    const input4 = randomArray(120, 2);
    const g4 = input4.slice();
    centralize(g4, [2, 3, 4, 5], { layout: { unitAxis: 1 }, convOnly: true });
    expectClose(g4, input4, [2, 3, 4, 5], { unitAxis: 1 });
  });
});

describe("the two ends of the view are the named layouts, bit for bit", () => {
  const shapes = [[5, 6], [3, 4, 5], [2, 3, 4, 5], [3, 3, 8, 16], [4, 1, 3], [7, 1], [1, 7], [9, 1025], [1025, 3], [8, 3, 3, 3]];
  test.each(shapes.map((s) => [s.join("×"), s] as const))("%s: unitAxis 0 ≡ out-first, -1 ≡ out-last (and rank−1 ≡ -1)", (_, shape) => {
    const input = randomArray(product(shape), product(shape), 1000, 1); // large offset: the hi/lo split matters
    const run = (layout: Layout) => {
      const g = input.slice();
      centralize(g, shape, { layout });
      return bitsOf(g);
    };
    expect(run({ unitAxis: 0 })).toEqual(run("out-first"));
    expect(run({ unitAxis: -shape.length })).toEqual(run("out-first"));
    expect(run({ unitAxis: -1 })).toEqual(run("out-last"));
    expect(run({ unitAxis: shape.length - 1 })).toEqual(run("out-last"));
  });
});

describe("centralizeAll with { unitAxis }", () => {
  test("every entry on its own rank's axis -2, one call; rank-1 entries untouched", () => {
    const shapes = [[3, 3, 8, 16], [6, 7], [2, 3, 4], [5]];
    const inputs = shapes.map((s, i) => randomArray(product(s), 40 + i, 0.5, 1));
    const grads = inputs.map((x) => x.slice());
    centralizeAll(grads.map((grad, i) => ({ grad, shape: shapes[i] })), { layout: { unitAxis: -2 } });
    shapes.forEach((shape, i) => {
      if (shape.length > 1) expectClose(grads[i], inputs[i], shape, { unitAxis: -2 });
      else expect(bitsOf(grads[i])).toEqual(bitsOf(inputs[i]));
    });
  });

  test("gives what centralize gives, bit for bit", () => {
    const shape = [4, 5, 6];
    const input = randomArray(120, 8, 2, 1);
    const a = input.slice();
    const b = input.slice();
    centralize(a, shape, { layout: { unitAxis: 1 } });
    centralizeAll([{ grad: b, shape }], { layout: { unitAxis: 1 } });
    expect(bitsOf(b)).toEqual(bitsOf(a));
  });
});

describe("gradientStats with { unitAxis }", () => {
  test.each([[[3, 3, 8, 16], -2], [[2, 3, 4, 5], 1], [[2, 3, 4, 5], 2], [[4, 1, 3], 1], [[6, 7], 0], [[6, 7], -1]] as const)(
    "%j unitAxis %i against the oracle",
    (shape, k) => {
      const values = randomArray(product([...shape]), 21, 0.2, 1);
      values[3] = NaN;
      values[7] = -Infinity;
      const stats = gradientStats(values, [...shape], { layout: { unitAxis: k } });
      const expected = statsReference(values, [...shape], { unitAxis: k });
      expect(stats.units).toBe(shape[k < 0 ? k + shape.length : k]);
      expect(stats.units).toBe(expected.units);
      expect(Array.from(stats.count)).toEqual(expected.count);
      expect(maxAbsDiff(stats.mean, expected.mean)).toBeLessThan(1e-12);
      expect(maxAbsDiff(stats.std, expected.std)).toBeLessThan(1e-12);
      expect(Array.from(stats.min)).toEqual(expected.min);
      expect(Array.from(stats.max)).toEqual(expected.max);
      expect([stats.nan, stats.posInf, stats.negInf]).toEqual([expected.nan, expected.posInf, expected.negInf]);
    },
  );

  test("after centralize on the same axis every unit's mean is ~0", () => {
    const shape = [3, 3, 8, 16];
    const g = randomArray(product(shape), 4, 5, 1);
    centralize(g, shape, { layout: { unitAxis: -2 } });
    const { mean } = gradientStats(g, shape, { layout: { unitAxis: -2 } });
    for (const m of mean) expect(Math.abs(m)).toBeLessThan(1e-5);
  });

  test("unitAxis 0 and -1 give out-first's and out-last's statistics exactly", () => {
    const shape = [5, 4, 3];
    const g = randomArray(60, 6, 1, 1);
    expect(gradientStats(g, shape, { layout: { unitAxis: 0 } })).toEqual(gradientStats(g, shape, { layout: "out-first" }));
    expect(gradientStats(g, shape, { layout: { unitAxis: -1 } })).toEqual(gradientStats(g, shape, { layout: "out-last" }));
  });
});

describe("bad { unitAxis } layouts: a named error, nothing changed", () => {
  const shape = [3, 4, 5];
  const fresh = () => randomArray(60, 77);

  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ["out of range (3 for rank 3)", () => ({ unitAxis: 3 }), RangeError, /^centralize: options\.layout\.unitAxis 3 is out of range for a rank-3 tensor/],
    ["out of range (-4 for rank 3)", () => ({ unitAxis: -4 }), RangeError, /^centralize: options\.layout\.unitAxis -4 is out of range for a rank-3 tensor/],
    ["a non-integer", () => ({ unitAxis: 1.5 }), RangeError, /^centralize: options\.layout\.unitAxis must be an integer, got 1\.5/],
    ["NaN", () => ({ unitAxis: NaN }), RangeError, /^centralize: options\.layout\.unitAxis must be an integer, got NaN/],
    ["a string axis", () => ({ unitAxis: "1" }), TypeError, /^centralize: options\.layout\.unitAxis must be an integer, got string "1"/],
    ["a wrong key", () => ({ axis: 1 }), TypeError, /^centralize: options\.layout\.axis is not a field of a layout \(known: unitAxis\)/],
    ["an extra key", () => ({ unitAxis: 1, units: 4 }), TypeError, /^centralize: options\.layout\.units is not a field of a layout/],
    ["no unitAxis", () => ({}), TypeError, /^centralize: options\.layout must be "out-first", "out-last" or \{ unitAxis: integer \}/],
    ["a getter", () => ({ get unitAxis() { return 1; } }), TypeError, /^centralize: options\.layout\.unitAxis must be a plain data property, got a getter or setter/],
    ["a non-enumerable unitAxis", () => Object.defineProperty({}, "unitAxis", { value: 1 }), TypeError, /^centralize: options\.layout\.unitAxis must be an enumerable own property/],
    ["an inherited unitAxis", () => Object.create({ unitAxis: 1 }), TypeError, /^centralize: options\.layout must be .* got an object without unitAxis/],
    ["a symbol key", () => ({ unitAxis: 1, [Symbol("x")]: 2 }), TypeError, /^centralize: options\.layout has a symbol key/],
    ["a string layout", () => "out-middle", RangeError, /^centralize: options\.layout must be "out-first" or "out-last", got "out-middle"/],
    ["an array", () => [1], TypeError, /^centralize: options\.layout must be "out-first", "out-last" or \{ unitAxis: integer \}, got an array/],
    ["a number", () => 1, TypeError, /^centralize: options\.layout must be "out-first", "out-last" or \{ unitAxis: integer \}, got number 1/],
  ];

  test.each(cases)("%s", (_, layout, type, message) => {
    const g = fresh();
    expectRefused(() => centralize(g, shape, { layout: layout() as Layout }), type, message, [g]);
    const t = tensor(fresh(), shape);
    expectRefused(() => centralize(t, { layout: layout() as Layout }), type, message, [t]);
  });

  test("centralizeAll names the entry whose rank does not fit, and changes none", () => {
    const a = randomArray(24, 1);
    const b = randomArray(6, 2);
    expectRefused(
      () => centralizeAll([{ grad: a, shape: [2, 3, 4] }, { grad: b, shape: [2, 3] }], { layout: { unitAxis: 2 } }),
      RangeError,
      /^centralizeAll: options\.layout\.unitAxis 2 is out of range for a rank-2 tensor \(gradients\[1\]\.grad\)/,
      [a, b],
    );
  });

  test("gradientStats refuses the same layouts", () => {
    const g = fresh();
    expectRefused(() => gradientStats(g, shape, { layout: { unitAxis: 3 } }), RangeError, /^gradientStats: options\.layout\.unitAxis 3 is out of range for a rank-3 tensor/, [g]);
    expectRefused(() => gradientStats(g, shape, { layout: { unitAxis: 0.5 } }), RangeError, /^gradientStats: options\.layout\.unitAxis must be an integer/, [g]);
  });

  test("a getter on the layout object never runs; a Proxy's traps run once", () => {
    let calls = 0;
    const g = fresh();
    const layout = { get unitAxis() { calls++; return 1; } };
    expectRefused(() => centralize(g, shape, { layout: layout as Layout }), TypeError, /must be a plain data property/, [g]);
    expect(calls).toBe(0);
    let traps = 0;
    const proxy = new Proxy({ unitAxis: 1 }, {
      ownKeys(target) { traps++; return Reflect.ownKeys(target); },
    });
    const input = fresh();
    const h = input.slice();
    centralize(h, shape, { layout: proxy });
    expect(traps).toBe(1);
    expectClose(h, input, shape, { unitAxis: 1 });
  });

  test("the layout object is read once, and what was checked is what the kernel uses", () => {
    // A sibling option's getter (caller code) changes the layout while the options are read: the
    // copy made then is checked and used; the object's descriptor is read exactly once.
    let reads = 0;
    const target = { unitAxis: 1 };
    const layout = new Proxy(target, {
      getOwnPropertyDescriptor(t, key) { reads++; return Reflect.getOwnPropertyDescriptor(t, key); },
    });
    const options = {
      get convOnly() {
        target.unitAxis = 2;
        return false;
      },
      layout,
    };
    const input = fresh();
    const g = input.slice();
    centralize(g, shape, options);
    expect(reads).toBe(1);
    expectClose(g, input, shape, { unitAxis: 2 });
  });
});

test("Tensor shapes of 1 around the axis ([4, 1, 3] on every axis) match the oracle", () => {
  const shape = [4, 1, 3];
  for (const k of axesOf(shape)) {
    const input = randomArray(12, 30 + k);
    const t = new Tensor(shape);
    t.data.set(input);
    centralize(t, { layout: { unitAxis: k } });
    expectClose(t.data, input, shape, { unitAxis: k });
    t.dispose();
  }
});

describe("extents of the general view", () => {
  const I32_MAX = 2147483647;
  const memoryBytes = () => runtime("test").memory.byteLength;

  test("the view kernel returns at once on an empty view whatever the other extents; its scratch is bounded", () => {
    const { splitting: kernels, threads } = runtime("test"); // the threads build's split path (the module's exports elsewhere)
    kernels.centralizeView(0, I32_MAX, I32_MAX, 0, 0);
    kernels.centralizeView(0, 0, I32_MAX, I32_MAX, 0);
    kernels.centralizeView(0, I32_MAX, 0, I32_MAX, 0);
    // per thread (the splitting kernels' viewScratchBytes answers for all the threads)
    const scratch = (outer: number, units: number, inner: number) => kernels.viewScratchBytes(outer, units, inner) / threads;
    expect(scratch(I32_MAX, 0, 2)).toBe(0);
    expect(scratch(1, 1000, 7)).toBe(0); // row units need none
    expect(scratch(3, 1000, 1)).toBe(kernels.columnScratchBytes(1000));
    expect(scratch(3, 1000, 7)).toBe(8000); // a float64 per unit
    expect(scratch(2, 2 ** 20, 2)).toBe(32768); // 4096 units at a time
  });

  test("empty shapes with a unit axis take no memory (centralize, stats, an optimizer)", () => {
    const g = new Float32Array(0);
    const before = memoryBytes();
    expect(centralize(g, [3, I32_MAX, 0], { layout: { unitAxis: 1 } })).toBe(g);
    expect(centralize(g, [0, I32_MAX, 5], { layout: { unitAxis: -2 } })).toBe(g);
    expect(gradientStats(g, [4, 0, 5], { layout: { unitAxis: 1 } }).units).toBe(0);
    expect(memoryBytes()).toBe(before);
    const opt = new Adam([{ value: new Float32Array(0), grad: new Float32Array(0), shape: [3, 2 ** 26, 0] }], { gc: "update", layout: { unitAxis: 1 } });
    opt.step();
    opt.dispose();
    expect(memoryBytes() - before).toBeLessThanOrEqual(65536);
  });

  test("a [2, 2**20, 2] tensor on axis 1 (16 MiB) takes 32 KiB of scratch and matches the oracle", () => {
    const shape = [2, 2 ** 20, 2];
    const input = randomArray(2 ** 22, 12, 1, 1);
    const t = Tensor.from(input, shape);
    const before = memoryBytes();
    centralize(t, { layout: { unitAxis: 1 } });
    expect(memoryBytes()).toBe(before); // no growth: the scratch is viewScratchBytes(2, 2**20, 2) = 32 KiB, checked above
    // spot-check units against the oracle's formula (the whole oracle over 4M values is slow)
    for (const u of [0, 1, 4095, 4096, 4097, 2 ** 20 - 1]) {
      const idx = [u * 2, u * 2 + 1, 2 ** 21 + u * 2, 2 ** 21 + u * 2 + 1];
      const mean = idx.reduce((sum, i) => sum + input[i], 0) / 4;
      for (const i of idx) expect(Math.abs(t.data[i] - (input[i] - mean))).toBeLessThanOrEqual(4 * 2 ** -22);
    }
    t.dispose();
  });
});
