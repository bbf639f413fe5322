// Per-output-unit statistics of a gradient, in float64.

/** Number of float64 slots written per unit by `unitStats`. */
export const STATS_SLOTS = 8;

/**
 * For units u0 … u0 + n − 1 of an [outer, units, inner] view (unit u holds x[o, u, i] for every
 * o and i, read in that order), writes 8 float64 to out[(u − u0)·8 …]: finite count, mean and
 * Σ(x − mean)² over the finite values, their min and max, and the counts of NaN, +Inf and −Inf.
 */
export function unitStats(ptr: usize, outer: i32, units: i32, inner: i32, u0: i32, n: i32, out: usize): void {
  const rowBytes = <usize>inner << 2;
  const outerBytes = <usize>units * rowBytes;
  for (let k = 0; k < n; k++) {
    const base = ptr + <usize>(u0 + k) * rowBytes;
    let count: f64 = 0, sum: f64 = 0, nan: f64 = 0, posInf: f64 = 0, negInf: f64 = 0;
    let lo: f64 = Infinity, hi: f64 = -Infinity;
    for (let o = 0; o < outer; o++) {
      const row = base + <usize>o * outerBytes;
      for (let i = 0; i < inner; i++) {
        const x = <f64>load<f32>(row + (<usize>i << 2));
        if (isFinite(x)) {
          count += 1;
          sum += x;
          lo = min(lo, x);
          hi = max(hi, x);
        } else if (isNaN(x)) nan += 1;
        else if (x > 0) posInf += 1;
        else negInf += 1;
      }
    }
    const mean = count > 0 ? sum / count : NaN;
    let m2: f64 = 0;
    for (let o = 0; o < outer; o++) {
      const row = base + <usize>o * outerBytes;
      for (let i = 0; i < inner; i++) {
        const x = <f64>load<f32>(row + (<usize>i << 2));
        if (isFinite(x)) m2 += (x - mean) * (x - mean);
      }
    }
    const at = out + (<usize>k * STATS_SLOTS << 3);
    store<f64>(at, count);
    store<f64>(at, mean, 8);
    store<f64>(at, m2, 16);
    store<f64>(at, count > 0 ? lo : NaN, 24);
    store<f64>(at, count > 0 ? hi : NaN, 32);
    store<f64>(at, nan, 40);
    store<f64>(at, posInf, 48);
    store<f64>(at, negInf, 56);
  }
}
