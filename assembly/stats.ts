// Per-output-unit statistics of a gradient, in float64.

/** Number of float64 slots written per unit by `unitStats`. */
export const STATS_SLOTS = 8;

/**
 * For each of `units` units, unit u holding `count` values x[u·unitStride + i·elemStride],
 * writes 8 float64 to out[u·8 …]: finite count n, mean and Σ(x − mean)² over the finite
 * values, their min and max, and the counts of NaN, +Inf and −Inf.
 */
export function unitStats(ptr: usize, units: i32, count: i32, unitStride: i32, elemStride: i32, out: usize): void {
  const elemBytes = <usize>elemStride << 2;
  for (let u = 0; u < units; u++) {
    const base = ptr + (<usize>u * <usize>unitStride << 2);
    let n: f64 = 0, sum: f64 = 0, nan: f64 = 0, posInf: f64 = 0, negInf: f64 = 0;
    let lo: f64 = Infinity, hi: f64 = -Infinity;
    for (let i = 0; i < count; i++) {
      const x = <f64>load<f32>(base + <usize>i * elemBytes);
      if (isFinite(x)) {
        n += 1;
        sum += x;
        lo = min(lo, x);
        hi = max(hi, x);
      } else if (isNaN(x)) nan += 1;
      else if (x > 0) posInf += 1;
      else negInf += 1;
    }
    const mean = n > 0 ? sum / n : NaN;
    let m2: f64 = 0;
    for (let i = 0; i < count; i++) {
      const x = <f64>load<f32>(base + <usize>i * elemBytes);
      if (isFinite(x)) m2 += (x - mean) * (x - mean);
    }
    const o = out + (<usize>u * STATS_SLOTS << 3);
    store<f64>(o, n);
    store<f64>(o, mean, 8);
    store<f64>(o, m2, 16);
    store<f64>(o, n > 0 ? lo : NaN, 24);
    store<f64>(o, n > 0 ? hi : NaN, 32);
    store<f64>(o, nan, 40);
    store<f64>(o, posInf, 48);
    store<f64>(o, negInf, 56);
  }
}
