// Per-output-unit statistics of a gradient: what GC changes, made visible.
import { sizeOf } from "./checks.js";
import { checkExtent, type Layout, type LayoutOptionChecks, layoutOrAxisCheck, MAX_TENSOR_VALUES, readLayoutOptions, unitView } from "./layout.js";
import { checkGradient, type Gradient, readGradientArgs, withOperands } from "./operands.js";
import { runtime } from "./runtime.js";
import type { Tensor } from "./tensor.js";

const SLOTS = 8;
/** Units whose statistics one kernel call writes (64 KiB of output). */
const UNIT_BATCH = 1024;

/** Options of `gradientStats`. */
export interface StatsOptions {
  /** Which axis holds the output units (`"out-first"`, `"out-last"` or `{ unitAxis: k }`); default `"out-first"`. */
  layout?: Layout;
}

/** Statistics of each output unit (over its finite values) and counts of non-finite values. */
export interface GradientStats {
  /** Number of output units: `shape[k]` for the layout's unit axis k (0 out-first, rank − 1 out-last); 1 for rank ≤ 1. */
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

const STATS_OPTIONS: LayoutOptionChecks = { known: ["layout"], checks: { layout: layoutOrAxisCheck } };

/**
 * Per output unit `u` (the units of the layout's axis k, every x[o, u, i] of the
 * `[prod(shape[:k]), shape[k], prod(shape[k+1:])]` view): count, mean, std = √(Σ(x − mean)²/n),
 * min and max of its finite values, plus whole-tensor counts of NaN, +Inf and −Inf. A gradient
 * of rank ≤ 1 is one unit. After GC every unit's mean is 0 (up to rounding); std, min and max
 * show what else changed.
 *
 * @example
 * const before = gradientStats(g, [64, 3, 3, 3]);
 * centralize(g, [64, 3, 3, 3]);
 * const after = gradientStats(g, [64, 3, 3, 3]);   // after.mean ≈ 0 for every unit
 * gradientStats(k, [3, 3, 8, 16], { layout: { unitAxis: -2 } }).units; // 8
 */
export function gradientStats(grad: Float32Array, shape: readonly number[], options?: StatsOptions): GradientStats;
export function gradientStats(grad: Tensor, options?: StatsOptions): GradientStats;
export function gradientStats(grad: Gradient, shapeOrOptions?: readonly number[] | StatsOptions, maybeOptions?: StatsOptions): GradientStats {
  const caller = "gradientStats";
  const rt = runtime(caller);
  // Read every argument (caller code may run only here), then check, then compute.
  const { input, options } = readGradientArgs(caller, grad, shapeOrOptions, maybeOptions);
  const { layout = "out-first" } = readLayoutOptions<StatsOptions>(options, STATS_OPTIONS, caller);
  const operand = checkGradient(rt, caller, input);
  checkExtent(operand.shape, caller);
  const size = sizeOf(operand.shape);
  const { outer, units, inner } =
    operand.shape.length > 1 ? unitView(operand.shape, layout, caller, "options.layout") : { outer: 1, units: 1, inner: size };
  if (units > MAX_TENSOR_VALUES) {
    throw new RangeError(`${caller}: shape [${operand.shape.join(", ")}] has ${units} units, more than the ${MAX_TENSOR_VALUES} a tensor can have`);
  }
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
  if (size === 0) {
    // Every unit is empty (count 0, the rest NaN): nothing for the kernel, no memory used.
    for (const field of [stats.mean, stats.std, stats.min, stats.max]) field.fill(NaN);
    return stats;
  }
  // The kernel writes 8 float64 per unit, UNIT_BATCH units at a time: its output area is 64 KiB
  // however many units there are.
  const batch = Math.min(units, UNIT_BATCH);
  const kernels = rt.kernelsFor(size);
  withOperands(rt, [operand], batch * SLOTS * 8, false, ([ptr], out) => {
    for (let u0 = 0; u0 < units; u0 += batch) {
      const n = Math.min(batch, units - u0);
      kernels.unitStats(ptr, outer, units, inner, u0, n, out);
      readUnits(rt.memory.f64.subarray(out >>> 3, (out >>> 3) + n * SLOTS), u0, stats);
    }
  }, { caller: "gradientStats" });
  return stats;
}

/** Adds the kernel's results for units u0, u0 + 1, … (8 float64 each) to `stats`. */
function readUnits(raw: Float64Array, u0: number, stats: GradientStats): void {
  for (let k = 0; k * SLOTS < raw.length; k++) {
    const [n, mean, m2, min, max, nan, posInf, negInf] = raw.subarray(k * SLOTS, (k + 1) * SLOTS);
    const u = u0 + k;
    stats.count[u] = n;
    stats.mean[u] = mean;
    stats.std[u] = n > 0 ? Math.sqrt(m2 / n) : NaN;
    stats.min[u] = min;
    stats.max[u] = max;
    stats.nan += nan;
    stats.posInf += posInf;
    stats.negInf += negInf;
  }
}
