// What every coupled-L2 rule's element update shares (inlined into each rule's loop, SIMD lane
// group or scalar): the direction it steps along, and where its step goes in each phase.
// The same float32 operations in the same order as when each rule spelled them out.

/** d = fl(g + wd·w) (g alone without L2), then (d − hi) − lo in PHASE_STEP (`center`). */
@inline export function directionV(g: v128, w: v128, wd: v128, l2: bool, center: bool, hi: usize, lo: usize): v128 {
  let d = g;
  if (l2) d = f32x4.add(d, f32x4.mul(wd, w));
  if (center) d = f32x4.sub(f32x4.sub(d, v128.load(hi)), v128.load(lo));
  return d;
}

/** Scalar `directionV`. */
@inline export function direction(g: f32, w: f32, wd: f32, l2: bool, center: bool, hi: usize, lo: usize): f32 {
  let d = g;
  if (l2) d = d + wd * w;
  if (center) d = (d - load<f32>(hi)) - load<f32>(lo);
  return d;
}

/**
 * Puts a step Δ where its phase wants it: PHASE_STEP (`center`) w ← w + Δ; the advance phases
 * (`toTmp`) tmp ← Δ; PHASE_APPLY w ← w + ((Δ − hi) − lo).
 */
@inline export function storeStepV(w: usize, tmp: usize, wv: v128, step: v128, center: bool, toTmp: bool, hi: usize, lo: usize): void {
  if (center) v128.store(w, f32x4.add(wv, step));
  else if (toTmp) v128.store(tmp, step);
  else v128.store(w, f32x4.add(wv, f32x4.sub(f32x4.sub(step, v128.load(hi)), v128.load(lo))));
}

/** Scalar `storeStepV`. */
@inline export function storeStep(w: usize, tmp: usize, wv: f32, step: f32, center: bool, toTmp: bool, hi: usize, lo: usize): void {
  if (center) store<f32>(w, wv + step);
  else if (toTmp) store<f32>(tmp, step);
  else store<f32>(w, wv + ((step - load<f32>(hi)) - load<f32>(lo)));
}
