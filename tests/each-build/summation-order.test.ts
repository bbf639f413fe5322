// Bit for bit: the single-thread speed-ups (bench/experiments.md) reorder loops but not results.
// The oracle here is a float32/float64 model of the order each kernel documents: out-last GC sums
// a column in blocks of 64 rows (each block from 0, added to the column's sum in order, every
// build, and with threads however the blocks are split); a row is summed by sumRow (SIMD: 8 lanes
// in 4 float64x2 accumulators, then the tail; scalar: left to right); the optimizer's column units
// sum their directions in the same blocks of 64 rows.
// Every float32 operation is Math.fround of the exact float64 result, which is the correctly
// rounded float32 result for +, −, ×, ÷ and √. Equality is of the bits (Object.is per value).
import { describe, expect, test } from "vitest";
import { Adam, backend, centralize, centralizeAll } from "../../src/index.js";
import { SCRATCH_SPLATS, scratchBytes } from "../../src/optim/table.js";
import { expectBits } from "../bits.js";
import { uniform } from "../random.js";

const f = Math.fround;

/** Values with hard cases: offsets, scales from 1e-6 to 1e6, signed zeros. */
function hardValues(n: number, seed: number, kind: number): Float32Array {
  const u = uniform(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = u() - 0.5;
    out[i] = kind === 0 ? x : kind === 1 ? 1000 + x : kind === 2 ? x * 10 ** Math.floor(u() * 12 - 6) : u() < 0.2 ? (u() < 0.5 ? 0 : -0) : x;
  }
  return out;
}

/**
 * Puts ±2⁵⁰·y pairs into each unit (index lists): unit[k] and unit[len − 1 − k] cancel, so the
 * unit's float64 sum is small but depends on the order of the additions (the small values added
 * while a large one is in the running sum are rounded): a kernel summing in another order fails.
 */
function withCancellingPairs(values: Float32Array, units: number[][], seed: number): Float32Array {
  const u = uniform(seed);
  for (const unit of units) {
    for (let k = 0; k < unit.length >> 1; k++) {
      if (u() >= 0.3) continue;
      const big = f(2 ** 50 * (u() - 0.5));
      values[unit[k]] = big;
      values[unit[unit.length - 1 - k]] = -big;
    }
  }
  return values;
}

/** The mean split as the kernels split it: hi = f32(mean), lo = f32(mean − hi) (0 when not finite). */
function split(mean: number): [number, number] {
  const hi = f(mean);
  return [hi, Number.isFinite(mean) ? f(mean - hi) : 0];
}

/** Rows per block of the column sums (assembly/centralize.ts COLUMN_BLOCK_ROWS). */
const BLOCK = 64;

/** Out-last GC of a [rows, cols] matrix: column sums in blocks of 64 rows, then (x − hi) − lo. */
function centralizeColumnsModel(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = x.slice();
  for (let c = 0; c < cols; c++) {
    let sum = 0;
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      let block = 0;
      for (let r = r0; r < Math.min(rows, r0 + BLOCK); r++) block += x[r * cols + c];
      sum += block;
    }
    const [hi, lo] = split(sum / rows);
    for (let r = 0; r < rows; r++) out[r * cols + c] = f(f(x[r * cols + c] - hi) - lo);
  }
  return out;
}

/** sumRow's float64 sum of x[0..n), in the order of the build under test. */
function sumRowModel(x: ArrayLike<number>): number {
  const n = x.length;
  if (backend() === "scalar") {
    let total = 0;
    for (let i = 0; i < n; i++) total += x[i];
    return total;
  }
  const acc = new Float64Array(8);
  const n8 = n & ~7;
  for (let i = 0; i < n8; i += 8) for (let j = 0; j < 8; j++) acc[j] += x[i + j];
  let total = ((acc[0] + acc[2]) + (acc[4] + acc[6])) + ((acc[1] + acc[3]) + (acc[5] + acc[7]));
  for (let i = n8; i < n; i++) total += x[i];
  return total;
}

interface AdamModelState {
  w: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

/**
 * One torch.optim.Adam step with L2 weight decay and gc "gradient" over units of `unitOf`
 * (index lists), in the kernel's float32 operations: d = g + wd·w, d ← (d − hi) − lo,
 * m = β1·m + (1 − β1)·d, v = β2·v + (1 − β2)·d², w ← w·1 + (−lr/(1 − β1ᵗ))·(m / (√v · (1/√(1 − β2ᵗ)) + eps)).
 */
function adamStepModel(s: AdamModelState, g: Float32Array, t: number, units: number[][], unitSum: (d: number[]) => number, o: { lr: number; wd: number }) {
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const negStep = f(-o.lr / (1 - beta1 ** t));
  const invBc2 = f(1 / f(Math.sqrt(1 - beta2 ** t)));
  const wd = f(o.wd);
  const dir = Array.from(g, (gi, i) => (wd === 0 ? gi : f(gi + f(wd * s.w[i]))));
  for (const unit of units) {
    const [hi, lo] = split(unitSum(unit.map((i) => dir[i])) / unit.length);
    for (const i of unit) {
      const d = f(f(dir[i] - hi) - lo);
      const m = f(f(f(beta1) * s.m[i]) + f(f(1 - beta1) * d));
      const v = f(f(f(beta2) * s.v[i]) + f(f(1 - beta2) * f(d * d)));
      s.m[i] = m;
      s.v[i] = v;
      const q = f(m / f(f(f(Math.sqrt(v)) * invBc2) + f(eps)));
      s.w[i] = f(f(s.w[i] * 1) + f(negStep * q));
    }
  }
}

describe("out-last GC, bit for bit against the blocked column order", () => {
  // widths below 64 take the register kernel, from 64 the row-by-row block sums; > 4096 two chunks
  const shapes = [[37, 5], [16, 64], [33, 63], [100, 64], [17, 300], [1152, 128], [5, 4100], [3, 3, 20, 100], [40, 1]];
  test.each(shapes.map((s) => [s]))("%j, five kinds of values, centralize and centralizeAll", (shape) => {
    const cols = shape.at(-1)!;
    const rows = shape.reduce((a, b) => a * b, 1) / cols;
    for (let kind = 0; kind < 5; kind++) {
      const input = kind < 4 ? hardValues(rows * cols, rows * 31 + cols + kind, kind) : withCancellingPairs(hardValues(rows * cols, rows + cols, 0), unitsOf(rows, cols, "out-last"), rows * cols);
      const expected = centralizeColumnsModel(input, rows, cols);
      const g = input.slice();
      centralize(g, shape, { layout: "out-last" });
      expectBits(g, expected, `centralize ${JSON.stringify(shape)} kind ${kind}`);
      const entries = [{ grad: input.slice(), shape }, { grad: input.slice(), shape }];
      centralizeAll(entries, { layout: "out-last" });
      for (const e of entries) expectBits(e.grad, expected, `centralizeAll ${JSON.stringify(shape)} kind ${kind}`);
    }
  });
});

/** Units of a [rows, cols] matrix as index lists: rows (out-first) or columns (out-last). */
function unitsOf(rows: number, cols: number, layout: "out-first" | "out-last"): number[][] {
  if (layout === "out-first") return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => r * cols + c));
  return Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => r * cols + c));
}

/** Column sums as stepColumnUnits adds them: row after row within blocks of 64 rows, each block from 0, the blocks in order. */
const inBlocks = (d: number[]) => {
  let sum = 0;
  for (let r0 = 0; r0 < d.length; r0 += BLOCK) sum += d.slice(r0, r0 + BLOCK).reduce((a, b) => a + b, 0);
  return sum;
};

describe("Adam + GC (gradient), bit for bit against the float32 model", () => {
  const cases: [number, number, "out-first" | "out-last"][] = [
    [7, 5, "out-first"], [9, 8, "out-first"], [5, 13, "out-first"], [4, 100, "out-first"], [3, 4100, "out-first"], [1, 3, "out-first"],
    [7, 5, "out-last"], [33, 64, "out-last"], [3, 5000, "out-last"], [150, 70, "out-last"], [200, 9, "out-last"],
  ];
  test.each(cases)("[%i, %i] %s, weight decay 0 and 0.01, 3 steps", (rows, cols, layout) => {
    for (const wd of [0, 0.01]) {
      const w0 = hardValues(rows * cols, rows + cols, 0);
      const model = { w: w0.slice(), m: new Float32Array(rows * cols), v: new Float32Array(rows * cols) };
      const param = { value: w0.slice(), grad: new Float32Array(rows * cols), shape: [rows, cols] };
      const opt = new Adam([param], { lr: 1e-2, weightDecay: wd, gc: "gradient", layout });
      const units = unitsOf(rows, cols, layout);
      for (let t = 1; t <= 3; t++) {
        const g = hardValues(rows * cols, 100 * t + rows, t === 2 ? 1 : 3);
        if (t === 3) withCancellingPairs(g, units, rows * cols);
        param.grad.set(g);
        opt.step();
        adamStepModel(model, g, t, units, layout === "out-first" ? sumRowModel : inBlocks, { lr: 1e-2, wd });
        expectBits(param.value, model.w, `w after step ${t} (wd ${wd})`);
      }
      const state = opt.stateDict().state[0];
      expectBits(state.expAvg as Float32Array, model.m, "m");
      expectBits(state.expAvgSq as Float32Array, model.v, "v");
      opt.dispose();
    }
  });

  test.each(["torch", "tfjs"] as const)("column units' own step loop (formula %s) = the generic loop (amsgrad, whose first step is the same)", (formula) => {
    const [rows, cols] = [19, 70];
    const w0 = hardValues(rows * cols, 5, 0);
    const g = hardValues(rows * cols, 6, 3);
    const results = [false, true].map((amsgrad) => {
      const param = { value: w0.slice(), grad: g.slice(), shape: [rows, cols] };
      const opt = new Adam([param], { lr: 1e-2, gc: "gradient", layout: "out-last", amsgrad, formula });
      opt.step();
      opt.dispose();
      return param.value;
    });
    expect(results[0].some((x, i) => x !== w0[i])).toBe(true);
    expectBits(results[0], results[1], `w (${formula})`);
  });

  test("column units' scratch is bounded: SCRATCH_SPLATS + 20·4096 bytes however many columns", () => {
    expect(scratchBytes(3, 100, 1)).toBe(SCRATCH_SPLATS + 400 + 1600);
    expect(scratchBytes(3, 4096, 1)).toBe(SCRATCH_SPLATS + 20 * 4096);
    expect(scratchBytes(3, 2 ** 24, 1)).toBe(SCRATCH_SPLATS + 20 * 4096);
  });
});
