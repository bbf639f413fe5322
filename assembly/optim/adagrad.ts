// Adagrad (torch.optim.Adagrad, or tf.train.adagrad; Duchi et al., 2011): the element update of the fused kernel.
import { FLAGS, FORMULA_TFJS, GRAD, PHASE_ADVANCE, PHASE_ADVANCE_COLUMNS, PHASE_APPLY, PHASE_STEP, STATE_A, VALUE, WEIGHT_DECAY } from "./table";
import { centeredV, direction, directionV, storeStep, storeStepV } from "./element";

// f32 fields
const NEG_CLR = 36; // −lr/(1 + (t − 1)·lrDecay)
const EPS = 40;
const INITIAL = 44; // initialAccumulatorValue: the sum before the first step
// flags
const FIRST_STEP = 8; // the sum buffer was just made: read INITIAL instead of it

/**
 * adagradRow's PHASE_STEP after the first step for column units (each lane its column's mean at
 * hi + 4c, lo + 4c): the common step's loop with hi and lo loaded per vector, a function of its
 * own (as sgd.ts sgdColumnsStep). Returns the values done (n rounded down to 4).
 */
function adagradColumnsStep(e: usize, off: usize, n: i32, hi: usize, lo: usize): i32 {
  const w = <usize>load<u32>(e, VALUE) + off;
  const g = <usize>load<u32>(e, GRAD) + off;
  const s = <usize>load<u32>(e, STATE_A) + off;
  const tfjs = (load<i32>(e, FLAGS) & FORMULA_TFJS) != 0;
  const wd = load<f32>(e, WEIGHT_DECAY);
  const eps = load<f32>(e, EPS);
  const l2 = wd != 0;
  const vwd = f32x4.splat(wd);
  const vclr = f32x4.splat(load<f32>(e, NEG_CLR));
  const vepsIn = f32x4.splat(tfjs ? eps : 0);
  const vepsOut = f32x4.splat(tfjs ? 0 : eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o);
    const d = centeredV(v128.load(g + o), wv, vwd, l2, v128.load(hi + o), v128.load(lo + o));
    const sv = f32x4.add(v128.load(s + o), f32x4.mul(d, d));
    v128.store(s + o, sv);
    const denom = f32x4.add(f32x4.sqrt(f32x4.add(sv, vepsIn)), vepsOut);
    v128.store(w + o, f32x4.add(wv, f32x4.mul(vclr, f32x4.div(d, denom))));
  }
  return i;
}

/**
 * Adagrad over one row of n values:
 *   d = fl(g + wd·w) (centered in PHASE_STEP);  s = s + d²;
 *   torch: Δ = −clr · d/(√s + eps);  FORMULA_TFJS (tf.train.adagrad): Δ = −clr · d/√(s + eps).
 * PHASE_APPLY recomputes d from g and w (w is not written before that) and Δ from the advanced s.
 * `rows` rows `stride` bytes apart run as that many calls would (gc.ts ruleRow).
 */
export function adagradRow(e: usize, off: usize, n: i32, phase: i32, hi: usize, lo: usize, mask: usize, tmp: usize, rows: i32, stride: usize): void {
  const w0 = <usize>load<u32>(e, VALUE) + off;
  const g0 = <usize>load<u32>(e, GRAD) + off;
  const s0 = <usize>load<u32>(e, STATE_A) + off;
  const flags = load<i32>(e, FLAGS);
  const first = (flags & FIRST_STEP) != 0;
  const tfjs = (flags & FORMULA_TFJS) != 0;
  const wd = load<f32>(e, WEIGHT_DECAY);
  const negClr = load<f32>(e, NEG_CLR);
  const eps = load<f32>(e, EPS);
  // eps under the root (tfjs) or added to it (torch); the other is 0, and s + 0, √s + 0 are exact
  const epsIn: f32 = tfjs ? eps : 0;
  const epsOut: f32 = tfjs ? 0 : eps;
  const initial = load<f32>(e, INITIAL);
  const l2 = wd != 0;
  const center = phase == PHASE_STEP;
  const advance = phase != PHASE_APPLY;
  const toTmp = phase == PHASE_ADVANCE || phase == PHASE_ADVANCE_COLUMNS;
  for (let row = 0; row < rows; row++) {
    const rowOff = <usize>row * stride;
    const w = w0 + rowOff, g = g0 + rowOff, s = s0 + rowOff;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const vwd = f32x4.splat(wd);
      const vclr = f32x4.splat(negClr);
      const vepsIn = f32x4.splat(epsIn);
      const vepsOut = f32x4.splat(epsOut);
      const vinitial = f32x4.splat(initial);
      if (center && mask == 0 && !first) {
        // The common step after the first (element.ts centeredV): hi and lo in registers, no
        // per-vector test of the phase or the first step.
        const vh = v128.load(hi);
        const vl = v128.load(lo);
        for (; i + 4 <= n; i += 4) {
          const o = <usize>i << 2;
          const wv = v128.load(w + o);
          const d = centeredV(v128.load(g + o), wv, vwd, l2, vh, vl);
          const sv = f32x4.add(v128.load(s + o), f32x4.mul(d, d));
          v128.store(s + o, sv);
          const denom = f32x4.add(f32x4.sqrt(f32x4.add(sv, vepsIn)), vepsOut);
          v128.store(w + o, f32x4.add(wv, f32x4.mul(vclr, f32x4.div(d, denom))));
        }
      } else if (center && !first) i = adagradColumnsStep(e, off + rowOff, n, hi, lo);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const c = o & mask;
        const wv = v128.load(w + o);
        const d = directionV(v128.load(g + o), wv, vwd, l2, center, hi + c, lo + c);
        let sv: v128;
        if (advance) {
          sv = f32x4.add(first ? vinitial : v128.load(s + o), f32x4.mul(d, d));
          v128.store(s + o, sv);
        } else sv = v128.load(s + o);
        const denom = f32x4.add(f32x4.sqrt(f32x4.add(sv, vepsIn)), vepsOut);
        const step = f32x4.mul(vclr, f32x4.div(d, denom));
        storeStepV(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
      }
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const c = o & mask;
      const wv = load<f32>(w + o);
      const d = direction(load<f32>(g + o), wv, wd, l2, center, hi + c, lo + c);
      let sv: f32;
      if (advance) {
        sv = (first ? initial : load<f32>(s + o)) + d * d;
        store<f32>(s + o, sv);
      } else sv = load<f32>(s + o);
      const denom = sqrt<f32>(sv + epsIn) + epsOut;
      const step = negClr * (d / denom);
      storeStep(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
    }
  }
}
