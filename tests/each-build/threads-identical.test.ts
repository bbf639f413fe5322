// The threads build splits large calls across its threads (project "threads": init({ threads: 2 })).
// Every kernel must give bit for bit what one thread gives: the same inputs run split (a threshold
// of SPLIT values, below every size here, so the cases stay small) and on the calling thread alone
// (the threshold above every size), and the float32 results compared as integers. In the other
// projects there are no threads: the file checks that backend() says so.
import { describe, expect, test } from "vitest";
import {
  Adadelta, Adagrad, Adam, Adamax, AdamW, backend, centralize, centralizeAll, clipGradNorm, clipGradValue, gradientStats, Lion,
  Lookahead, NAdam, RAdam, RMSprop, SGD, Tensor,
} from "../../src/index.js";
import type { Layout, Param } from "../../src/index.js";
import { DEFAULT_SPLIT_VALUES, setSplitValues, splitJobs } from "../../src/threads/dispatch.js";
import { randomArray as freshRandomArray } from "../random.js";

/** randomArray, drawn once per (n, seed, offset, scale) and copied: both runs of a case get the same values. */
const drawn = new Map<string, Float32Array>();
function randomArray(n: number, seed: number, offset = 0, scale = 1): Float32Array {
  const key = `${n} ${seed} ${offset} ${scale}`;
  let values = drawn.get(key);
  if (!values) drawn.set(key, (values = freshRandomArray(n, seed, offset, scale)));
  return values.slice();
}

const threaded = process.env.GC_BUILD === "threads";
const ONE_THREAD = Number.POSITIVE_INFINITY;

/** The split threshold of the split runs. */
const SPLIT = 1 << 16;

/** Runs `work` split across the threads and on one thread, from the same inputs; returns both results. */
function both<T>(work: () => T): [T, T] {
  const previous = setSplitValues(SPLIT);
  try {
    const jobs = splitJobs();
    const split = work();
    expect(splitJobs(), "the calls were split across the threads").toBeGreaterThan(jobs);
    setSplitValues(ONE_THREAD);
    return [split, work()];
  } finally {
    setSplitValues(previous);
  }
}

/** The values' bit patterns (NaN payloads included), as 32-bit integers. */
function words(values: Float32Array | Float64Array): Uint32Array {
  return values instanceof Float32Array ? new Uint32Array(values.buffer, values.byteOffset, values.length) : new Uint32Array(Float64Array.from(values).buffer);
}

/** "identical", or where the two arrays first differ (bit for bit). */
function compare(a: Float32Array | Float64Array, b: Float32Array | Float64Array): string {
  const x = words(a);
  const y = words(b);
  if (x.length !== y.length) return `lengths ${x.length} and ${y.length}`;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `word ${i} differs: ${x[i]} vs ${y[i]}`;
  return "identical";
}

/** Shapes above SPLIT values with their layouts: rows, columns, the general view. */
const VIEWS: [string, number[], Layout][] = [
  ["rows (out-first [256, 300])", [256, 300], "out-first"],
  ["columns (out-last [300, 258])", [300, 258], "out-last"],
  ["columns (out-last conv [3, 3, 64, 130])", [3, 3, 64, 130], "out-last"],
  ["general view ({ unitAxis: 1 } on [3, 66, 400])", [3, 66, 400], { unitAxis: 1 }],
];

describe.runIf(!threaded)("one-thread builds", () => {
  test("backend() is not simd-threads", () => {
    expect(backend()).not.toBe("simd-threads");
  });
});

describe.runIf(threaded)("threads: 2 gives bit-identical results to one thread", () => {
  test("the split threshold is above a [10, 64] call; the sizes here are above the tests' own", () => {
    expect(DEFAULT_SPLIT_VALUES).toBeGreaterThan(640);
    for (const [, shape] of VIEWS) expect(shape.reduce((a, b) => a * b)).toBeGreaterThanOrEqual(SPLIT);
  });

  // Out-last tensors of more than one group (assembly/threads.ts GROUP_VALUES, 1M values), one of
  // them wider than a chunk of 4096 columns.
  const GROUPS = [[1100, 1000], [300, 258], [40, 5000], [700, 600]];

  test("centralizeAll out-last over two groups of column tensors", () => {
    const inputs = GROUPS.map((s, i) => randomArray(s.reduce((a, b) => a * b), 70 + i, 0.5, 1));
    const [split, one] = both(() => {
      const grads = inputs.map((x, i) => ({ grad: Float32Array.from(x), shape: GROUPS[i] }));
      centralizeAll(grads, { layout: "out-last" });
      return grads.map((g) => g.grad);
    });
    split.forEach((g, i) => expect(compare(g, one[i]), `tensor ${i}`).toBe("identical"));
    expect(compare(split[0], inputs[0])).not.toBe("identical");
  });

  test.each(["gradient", "update"] as const)("Adam + GC %s out-last over two groups of column tensors, 2 steps", (gc) => {
    const [split, one] = both(() => {
      const params = GROUPS.map((s, i) => ({ value: Tensor.from(randomArray(s.reduce((a, b) => a * b), 80 + i, 0.2, 0.5), s), grad: new Tensor(s) }));
      const opt = new Adam(params, { lr: 0.01, gc, layout: "out-last", weightDecay: 0.01 });
      for (let step = 0; step < 2; step++) {
        params.forEach((p, i) => p.grad.data.set(randomArray(p.grad.data.length, 90 + 10 * step + i, 1, 1)));
        opt.step();
      }
      opt.dispose();
      const out = params.map((p) => Float32Array.from(p.value.data));
      for (const p of params) p.value.dispose(), p.grad.dispose();
      return out;
    });
    split.forEach((w, i) => expect(compare(w, one[i]), `tensor ${i}`).toBe("identical"));
  });

  test.each(VIEWS)("centralize, %s", (_, shape, layout) => {
    const n = shape.reduce((a, b) => a * b);
    const input = randomArray(n, 11, 3, 2);
    const [split, one] = both(() => centralize(Float32Array.from(input), shape, { layout }));
    expect(compare(split, one)).toBe("identical");
    // and it did centralize (not a no-op on both paths)
    expect(compare(split, input)).not.toBe("identical");
  });

  test("centralize on a Tensor (in place in shared memory)", () => {
    const [split, one] = both(() => {
      const t = Tensor.from(randomArray(256 * 300, 5, -1, 3), [256, 300]);
      centralize(t, { layout: "out-last" });
      const out = Float32Array.from(t.data);
      t.dispose();
      return out;
    });
    expect(compare(split, one)).toBe("identical");
  });

  test.each(["out-first", "out-last", { unitAxis: 1 }] as Layout[])("centralizeAll over a ResNet-like list, layout %j", (layout) => {
    const shapes = [[64, 3, 7, 7], [64, 64, 3, 3], [128, 64, 3, 3], [128], [10, 512], [128, 64, 1, 1]];
    const inputs = shapes.map((s, i) => randomArray(s.reduce((a, b) => a * b), 20 + i, 0.5, 1));
    const [split, one] = both(() => {
      const grads = inputs.map((x, i) => ({ grad: Float32Array.from(x), shape: shapes[i] }));
      centralizeAll(grads, { layout });
      return grads.map((g) => g.grad);
    });
    split.forEach((g, i) => expect(compare(g, one[i])).toBe("identical"));
  });

  test.each(VIEWS)("gradientStats, %s (with NaN and ±Inf)", (_, shape, layout) => {
    const n = shape.reduce((a, b) => a * b);
    const input = randomArray(n, 7, 1, 4);
    input[3] = NaN;
    input[n - 5] = Infinity;
    input[n >> 1] = -Infinity;
    const [split, one] = both(() => gradientStats(input, shape, { layout }));
    for (const field of ["count", "mean", "std", "min", "max"] as const) expect(compare(split[field], one[field])).toBe("identical");
    expect([split.nan, split.posInf, split.negInf]).toEqual([one.nan, one.posInf, one.negInf]);
  });

  const RULES: [string, (params: Param[], options: Record<string, unknown>) => { step(): void; dispose(): void }][] = [
    ["SGD momentum 0.9, dampening 0.1", (p, o) => new SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3, ...o })],
    ["SGD nesterov", (p, o) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, ...o })],
    ["Adam", (p, o) => new Adam(p, { lr: 0.01, weightDecay: 1e-3, ...o })],
    ["Adam amsgrad, formula tfjs", (p, o) => new Adam(p, { lr: 0.01, amsgrad: true, ...o })],
    ["Adam formula tfjs", (p, o) => new Adam(p, { lr: 0.01, formula: "tfjs", ...o })],
    ["AdamW", (p, o) => new AdamW(p, { lr: 0.01, weightDecay: 0.05, ...o })],
    ["RAdam", (p, o) => new RAdam(p, { lr: 0.01, ...o })],
    ["NAdam", (p, o) => new NAdam(p, { lr: 0.01, ...o })],
    ["Adamax", (p, o) => new Adamax(p, { lr: 0.01, ...o })],
    ["Adagrad", (p, o) => new Adagrad(p, { lr: 0.05, ...o })],
    ["Adadelta", (p, o) => new Adadelta(p, { lr: 1, ...o })],
    ["RMSprop centered, momentum", (p, o) => new RMSprop(p, { lr: 0.01, centered: true, momentum: 0.5, ...o })],
    ["Lion", (p, o) => new Lion(p, { lr: 1e-3, weightDecay: 0.1, ...o })],
  ];
  const GC_MODES = ["gradient", "update", false] as const;
  const LAYOUTS: Layout[] = ["out-first", "out-last", { unitAxis: 1 }];
  const SHAPES = [[96, 32, 3, 3], [300, 258], [258], [66, 130, 3]];

  /** Three steps of an optimizer over SHAPES (Tensors and Float32Arrays), from the same seeds: the weights after each. */
  function trajectory(make: (params: Param[], options: Record<string, unknown>) => { step(): void; dispose(): void }, options: Record<string, unknown>): Float32Array[] {
    const params: Param[] = SHAPES.map((shape, i) => {
      const values = randomArray(shape.reduce((a, b) => a * b), 40 + i, 0.2, 0.5);
      return i % 2 === 0 ? { value: Tensor.from(values, shape), grad: new Tensor(shape) } : { value: values, grad: new Float32Array(values.length), shape };
    });
    const view = (x: Tensor | Float32Array) => (x instanceof Tensor ? x.data : x);
    const opt = make(params, options);
    const out: Float32Array[] = [];
    for (let step = 0; step < 3; step++) {
      params.forEach((p, i) => view(p.grad as Tensor | Float32Array).set(randomArray(view(p.grad as Tensor | Float32Array).length, 100 * step + i, 1, 1)));
      opt.step();
      for (const p of params) out.push(Float32Array.from(view(p.value as Tensor | Float32Array)));
    }
    opt.dispose();
    for (const p of params) for (const x of [p.value, p.grad]) if (x instanceof Tensor) x.dispose();
    return out;
  }

  for (const [name, make] of RULES) {
    test(`${name}: gc gradient / update / off × out-first / out-last / { unitAxis: 1 }, 3 steps`, () => {
      for (const gc of GC_MODES) {
        for (const layout of LAYOUTS) {
          const [split, one] = both(() => trajectory(make, { gc, layout }));
          split.forEach((w, k) => expect(compare(w, one[k]), `${name} gc ${gc} layout ${JSON.stringify(layout)} array ${k}`).toBe("identical"));
        }
      }
    });
  }

  // A thread's share of column units wider than one chunk (4096 columns) must be stepped a chunk at
  // a time: each thread's scratch holds one chunk (main at c2b6f63 sized its row buffer for the
  // whole row here and wrote past its scratch into the other thread's).
  test.each(GC_MODES.filter((gc) => gc !== false))("Adam and RMSprop, out-last [8, 9000] (a share wider than a chunk), gc %s", (gc) => {
    const SHAPE = [8, 9000];
    for (const make of [RULES[2][1], RULES[11][1]]) {
      const [split, one] = both(() => {
        const p = { value: randomArray(8 * 9000, 8, 0.2, 0.5), grad: new Float32Array(8 * 9000), shape: SHAPE };
        const opt = make([p], { gc, layout: "out-last" });
        for (let step = 0; step < 3; step++) {
          p.grad.set(randomArray(p.grad.length, 200 + step, 1, 1));
          opt.step();
        }
        opt.dispose();
        return p.value;
      });
      expect(compare(split, one)).toBe("identical");
      expect(compare(split, randomArray(8 * 9000, 8, 0.2, 0.5))).not.toBe("identical");
    }
  });

  test("SGD gc update after steps without GC (the momentum buffer centered first, split too)", () => {
    const [split, one] = both(() => {
      const shape = [300, 258];
      const p = { value: randomArray(300 * 258, 3, 0, 1), grad: new Float32Array(300 * 258), shape };
      const opt = new SGD([p], { lr: 0.1, momentum: 0.9, gc: false, layout: "out-last" });
      p.grad.set(randomArray(p.grad.length, 4, 2, 1));
      opt.step();
      opt.paramGroups[0].gc = "update";
      p.grad.set(randomArray(p.grad.length, 5, 2, 1));
      opt.step();
      opt.dispose();
      return p.value;
    });
    expect(compare(split, one)).toBe("identical");
  });

  test.each([2, 1, Infinity])("clipGradNorm, norm %s (partials per tensor, combined in tensor order), then the scaling", (normType) => {
    const shapes = [[300, 258], [4097], [64, 64, 3, 3], [7]];
    const [split, one] = both(() => {
      const grads = shapes.map((s, i) => ({ grad: randomArray(s.reduce((a, b) => a * b), 60 + i, 0.1, 1), shape: s }));
      const total = clipGradNorm(grads, 1, { normType });
      return { total, grads: grads.map((g) => g.grad) };
    });
    expect(split.total).toBe(one.total);
    split.grads.forEach((g, i) => expect(compare(g, one.grads[i])).toBe("identical"));
    expect(compare(split.grads[0], randomArray(300 * 258, 60, 0.1, 1))).not.toBe("identical");
  });

  test("clipGradValue", () => {
    const [split, one] = both(() => clipGradValue([{ grad: randomArray(300 * 259, 9, 0, 1), shape: [300, 259] }], 0.25)[0].grad);
    expect(compare(split, one)).toBe("identical");
  });

  test("Lookahead(Adam): the synchronization, split", () => {
    const [split, one] = both(() => trajectory((p, o) => new Lookahead(new Adam(p, { lr: 0.01, ...o }), { k: 2, alpha: 0.3 }), { gc: "gradient", layout: "out-first" }));
    split.forEach((w, k) => expect(compare(w, one[k])).toBe("identical"));
  });
});
