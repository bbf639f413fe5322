// What the rules' element updates share (inlined into each rule's loop, SIMD lane group or
// scalar): the direction a coupled-L2 rule steps along, the moving averages its state keeps, and
// where its step goes in each phase.
// The same float32 operations in the same order as when each rule spelled them out.

/** d = fl(g + wd·w) (g alone without L2), then (d − hi) − lo in PHASE_STEP (`center`). */
@inline export function directionV(g: v128, w: v128, wd: v128, l2: bool, center: bool, hi: usize, lo: usize): v128 {
  let d = g;
  if (l2) d = f32x4.add(d, f32x4.mul(wd, w));
  if (center) d = f32x4.sub(f32x4.sub(d, v128.load(hi)), v128.load(lo));
  return d;
}

/**
 * directionV in PHASE_STEP with the unit mean's hi and lo in registers (one splat for a row unit,
 * or zeros with GC off): ((g + wd·w) − hi) − lo. The rules' common-step loops use it: the generic
 * loops' loads of hi and lo per vector, and their branches on the phase, cost memory-bound rules
 * up to a third of their time (bench/experiments.md).
 */
@inline export function centeredV(g: v128, w: v128, wd: v128, l2: bool, hi: v128, lo: v128): v128 {
  let d = g;
  if (l2) d = f32x4.add(d, f32x4.mul(wd, w));
  return f32x4.sub(f32x4.sub(d, hi), lo);
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

/**
 * The exponential moving average every moment update is: β·a + k·x, k = 1 − β (Adam's
 * m = β1·m + (1 − β1)·d, RMSprop's gradient average, Lion's interpolation and momentum).
 */
@inline export function emaV(beta: v128, a: v128, keep: v128, x: v128): v128 {
  return f32x4.add(f32x4.mul(beta, a), f32x4.mul(keep, x));
}

/** Scalar `emaV`. */
@inline export function ema(beta: f32, a: f32, keep: f32, x: f32): f32 {
  return beta * a + keep * x;
}

/** The moving average of squares: β·a + k·x², k = 1 − β (Adam's v = β2·v + (1 − β2)·d², RMSprop's, Adadelta's). */
@inline export function emaSquareV(beta: v128, a: v128, keep: v128, x: v128): v128 {
  return f32x4.add(f32x4.mul(beta, a), f32x4.mul(keep, f32x4.mul(x, x)));
}

/** Scalar `emaSquareV`. */
@inline export function emaSquare(beta: f32, a: f32, keep: f32, x: f32): f32 {
  return beta * a + keep * (x * x);
}
