// Gradient clipping over a list of tensors in one call (torch.nn.utils.clip_grad_norm_ and
// clip_grad_value_). A table of (ptr, length) i32 pairs, CLIP_ENTRY_BYTES each, lists the tensors.
// Norms accumulate in float64: squares of float32 values are exact in float64.

/** Bytes of one table entry: the address of the values and their count. */
export const CLIP_ENTRY_BYTES = 8;

/** Norm types of clipGradNorm. */
export const NORM_INF = 0;
export const NORM_L1 = 1;
export const NORM_L2 = 2;

/** Σ |x[i]| (L1), Σ x[i]² (L2), or max |x[i]| (∞, NaN when any x[i] is NaN) over n values, in float64. */
export function reduceTensor(ptr: usize, n: i32, normType: i32): f64 {
  let i = 0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    if (normType == NORM_INF) {
      let m = f32x4.splat(0);
      for (; i + 4 <= n; i += 4) m = f32x4.max(m, f32x4.abs(v128.load(ptr + (<usize>i << 2))));
      total = <f64>max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    } else {
      let a0 = f64x2.splat(0);
      let a1 = f64x2.splat(0);
      for (; i + 4 <= n; i += 4) {
        let v = v128.load(ptr + (<usize>i << 2));
        if (normType == NORM_L1) v = f32x4.abs(v);
        const lo = f64x2.promote_low_f32x4(v);
        const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
        if (normType == NORM_L2) {
          a0 = f64x2.add(a0, f64x2.mul(lo, lo));
          a1 = f64x2.add(a1, f64x2.mul(hi, hi));
        } else {
          a0 = f64x2.add(a0, lo);
          a1 = f64x2.add(a1, hi);
        }
      }
      const s = f64x2.add(a0, a1);
      total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    }
  }
  for (; i < n; i++) {
    const x = <f64>abs<f32>(load<f32>(ptr + (<usize>i << 2)));
    if (normType == NORM_INF) total = max(total, x);
    else total += normType == NORM_L2 ? x * x : x;
  }
  return total;
}

/** x[i] ← x[i]·s for i < n. */
export function scaleTensor(ptr: usize, n: i32, s: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f32x4.splat(s);
    for (; i + 4 <= n; i += 4) {
      const p = ptr + (<usize>i << 2);
      v128.store(p, f32x4.mul(v128.load(p), vs));
    }
  }
  for (; i < n; i++) {
    const p = ptr + (<usize>i << 2);
    store<f32>(p, load<f32>(p) * s);
  }
}

/**
 * torch.nn.utils.clip_grad_norm_ over `count` tensors: total = (Σ_tensors Σ |g|ᵖ)^(1/p) for
 * p = 1, 2, or max |g| for p = ∞ (normType NORM_L1, NORM_L2, NORM_INF); c = maxNorm / (total + 1e-6);
 * when c < 1 (or NaN, as torch's clamp keeps NaN) every g ← g·f32(c). Returns total.
 */
export function clipGradNorm(table: usize, count: i32, normType: i32, maxNorm: f64): f64 {
  let total: f64 = 0;
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * CLIP_ENTRY_BYTES;
    const part = reduceTensor(<usize>load<u32>(e), load<i32>(e, 4), normType);
    total = normType == NORM_INF ? max(total, part) : total + part; // f64.max keeps NaN
  }
  if (normType == NORM_L2) total = sqrt(total);
  const coef = maxNorm / (total + 1e-6);
  if (coef >= 1) return total;
  const s = <f32>coef;
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * CLIP_ENTRY_BYTES;
    scaleTensor(<usize>load<u32>(e), load<i32>(e, 4), s);
  }
  return total;
}

/** torch.nn.utils.clip_grad_value_ over `count` tensors: g ← min(max(g, −c), c) (NaN stays NaN). */
export function clipGradValue(table: usize, count: i32, c: f32): void {
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * CLIP_ENTRY_BYTES;
    clipValues(<usize>load<u32>(e), load<i32>(e, 4), c);
  }
}

/** x[i] ← min(max(x[i], −c), c) for i < n (a part of a tensor starts at a multiple of 4 values: each keeps its SIMD lane). */
export function clipValues(ptr: usize, n: i32, c: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const hi = f32x4.splat(c);
    const lo = f32x4.splat(-c);
    for (; i + 4 <= n; i += 4) {
      const p = ptr + (<usize>i << 2);
      v128.store(p, f32x4.min(f32x4.max(v128.load(p), lo), hi));
    }
  }
  for (; i < n; i++) {
    const p = ptr + (<usize>i << 2);
    store<f32>(p, min<f32>(max<f32>(load<f32>(p), -c), c));
  }
}
