// Per-output-unit statistics of a gradient: what GC changes, made visible.
import { checkOptions, sizeOf } from "./checks.js";
import { type Layout, layoutCheck, unitMatrix } from "./layout.js";
import { checkGradient, type Gradient, readGradientArgs, withOperands } from "./operands.js";
import { runtime } from "./runtime.js";
import type { Tensor } from "./tensor.js";

const SLOTS = 8;

/** Options of `gradientStats`. */
export interface StatsOptions {
  /** Which axis holds the output units; default `"out-first"`. */
  layout?: Layout;
}

/** Statistics of each output unit (over its finite values) and counts of non-finite values. */
export interface GradientStats {
  /** Number of output units: `shape[0]` (out-first) or `shape[rank-1]` (out-last); 1 for rank ≤ 1. */
  units: number;
  /** Per unit: number of finite values. */
  count: Float64Array;
  /** Per unit: mean of the finite values (NaN when there are none). */
  mean: Float64Array;
  /** Per unit: population standard deviation √(Σ(x − mean)² / count) of the finite values. */
  std: Float64Array;
  /** Per unit: smallest finite value (NaN when there are none). */
  min: Float64Array;
  /** Per unit: largest finite value (NaN when there are none). */
  max: Float64Array;
  /** Number of NaN values in the whole gradient. */
  nan: number;
  /** Number of +Infinity values. */
  posInf: number;
  /** Number of −Infinity values. */
  negInf: number;
}

/**
 * Per output unit `u`: count, mean, std = √(Σ(x − mean)²/n), min and max of its finite values,
 * plus whole-tensor counts of NaN, +Inf and −Inf. A gradient of rank ≤ 1 is one unit. After GC
 * every unit's mean is 0 (up to rounding); std, min and max show what else changed.
 *
 * @example
 * const before = gradientStats(g, [64, 3, 3, 3]);
 * centralize(g, [64, 3, 3, 3]);
 * const after = gradientStats(g, [64, 3, 3, 3]);   // after.mean ≈ 0 for every unit
 */
export function gradientStats(grad: Float32Array, shape: readonly number[], options?: StatsOptions): GradientStats;
export function gradientStats(grad: Tensor, options?: StatsOptions): GradientStats;
export function gradientStats(grad: Gradient, shapeOrOptions?: readonly number[] | StatsOptions, maybeOptions?: StatsOptions): GradientStats {
  const caller = "gradientStats";
  const rt = runtime(caller);
  // Read every argument (caller code may run only here), then check, then compute.
  const { input, options } = readGradientArgs(caller, grad, shapeOrOptions, maybeOptions);
  const { layout = "out-first" } = checkOptions<StatsOptions>(options, { layout: layoutCheck }, caller);
  const operand = checkGradient(rt, caller, input);
  const size = sizeOf(operand.shape);
  const { rows, cols, unitsAreRows } =
    operand.shape.length > 1 ? unitMatrix(operand.shape, layout) : { rows: 1, cols: size, unitsAreRows: true };
  const units = unitsAreRows ? rows : cols;
  const outBytes = units * SLOTS * 8;
  const raw = new Float64Array(units * SLOTS);
  withOperands(rt, [operand], outBytes, false, ([ptr], out) => {
    if (unitsAreRows) rt.kernels.unitStats(ptr, rows, cols, cols, 1, out);
    else rt.kernels.unitStats(ptr, cols, rows, 1, cols, out);
    raw.set(rt.memory.f64.subarray(out >>> 3, (out >>> 3) + units * SLOTS));
  }, { caller: "gradientStats" });
  const stats: GradientStats = {
    units,
    count: new Float64Array(units),
    mean: new Float64Array(units),
    std: new Float64Array(units),
    min: new Float64Array(units),
    max: new Float64Array(units),
    nan: 0,
    posInf: 0,
    negInf: 0,
  };
  for (let u = 0; u < units; u++) {
    const [n, mean, m2, min, max, nan, posInf, negInf] = raw.subarray(u * SLOTS, (u + 1) * SLOTS);
    stats.count[u] = n;
    stats.mean[u] = mean;
    stats.std[u] = n > 0 ? Math.sqrt(m2 / n) : NaN;
    stats.min[u] = min;
    stats.max[u] = max;
    stats.nan += nan;
    stats.posInf += posInf;
    stats.negInf += negInf;
  }
  return stats;
}
