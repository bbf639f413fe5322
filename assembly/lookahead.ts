// Lookahead's synchronization (Zhang, Lucas, Hinton, Ba, 2019, "Lookahead Optimizer: k steps
// forward, 1 step back", arXiv:1907.08610) over every parameter in one call. A table of
// (fast ptr, slow ptr, length) i32 triples, LOOKAHEAD_ENTRY_BYTES each, lists the parameters.

/** Bytes of one table entry: the fast weights' address, the slow weights' address, their count. */
export const LOOKAHEAD_ENTRY_BYTES = 12;

/** For every listed parameter: slow ← slow + α·(fast − slow), then fast ← slow (float32). */
export function lookaheadSync(table: usize, count: i32, alpha: f32): void {
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * LOOKAHEAD_ENTRY_BYTES;
    lookaheadValues(<usize>load<u32>(e), <usize>load<u32>(e, 4), load<i32>(e, 8), alpha);
  }
}

/**
 * lookaheadSync of one parameter's n values from `fast` and `slow` (a part starts at a multiple
 * of 4 values, so each keeps its SIMD lane or scalar tail).
 */
export function lookaheadValues(fast: usize, slow: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const s = v128.load(slow + o);
      const next = f32x4.add(s, f32x4.mul(va, f32x4.sub(v128.load(fast + o), s)));
      v128.store(slow + o, next);
      v128.store(fast + o, next);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const s = load<f32>(slow + o);
    const next = s + alpha * (load<f32>(fast + o) - s);
    store<f32>(slow + o, next);
    store<f32>(fast + o, next);
  }
}
