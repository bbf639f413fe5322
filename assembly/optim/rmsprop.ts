// RMSprop (torch.optim.RMSprop, or tf.train.rmsprop; Hinton, 2012): the element update of the fused kernel.
import { FLAGS, FORMULA_TFJS, GRAD, PHASE_ADVANCE, PHASE_ADVANCE_COLUMNS, PHASE_APPLY, PHASE_STEP, STATE_A, STATE_B, STATE_C, VALUE, WEIGHT_DECAY } from "./table";
import { centeredV, direction, directionV, ema, emaSquare, emaSquareV, emaV, storeStep, storeStepV } from "./element";

// f32 fields
const NEG_LR = 36;
const ALPHA = 40;
const ONE_MINUS_ALPHA = 44;
const EPS = 48;
const MOMENTUM = 52;
// flags
const CENTERED = 8; //      subtract the square of the gradient average (STATE_B) from v
const HAS_MOMENTUM = 16; // momentum buffer in STATE_C

/**
 * RMSprop's Δ in 4 lanes from d and the advanced averages v (vv) and a (av): torch
 * −lr·d/(√ṽ + eps), or with momentum b = μ·b + d/(√ṽ + eps) (stored at `b`), Δ = −lr·b;
 * FORMULA_TFJS x = (d·lr)/√(ṽ + eps), with momentum b = μ·b + x, Δ = −b (ṽ: v − a² centered).
 */
// @ts-ignore: decorator
@inline function deltaV(d: v128, vv: v128, av: v128, b: usize, centered: bool, momentum: bool, tfjs: bool, negLr: v128, lr: v128, eps: v128, mu: v128): v128 {
  if (tfjs) {
    const root = f32x4.sqrt(centered ? f32x4.sub(vv, f32x4.add(f32x4.mul(av, av), eps)) : f32x4.add(vv, eps));
    const x = f32x4.div(f32x4.mul(d, lr), root);
    if (!momentum) return f32x4.neg(x);
    const bv = f32x4.add(f32x4.mul(mu, v128.load(b)), x);
    v128.store(b, bv);
    return f32x4.neg(bv);
  }
  const denom = f32x4.add(f32x4.sqrt(centered ? f32x4.sub(vv, f32x4.mul(av, av)) : vv), eps);
  if (!momentum) return f32x4.mul(negLr, f32x4.div(d, denom));
  const bv = f32x4.add(f32x4.mul(mu, v128.load(b)), f32x4.div(d, denom));
  v128.store(b, bv);
  return f32x4.mul(negLr, bv);
}

/**
 * rmspropRow's PHASE_STEP for column units (each lane its column's mean at hi + 4c, lo + 4c):
 * the common step's loop with hi and lo loaded per vector, a function of its own (as sgd.ts
 * sgdColumnsStep). Returns the values done (n rounded down to 4).
 */
function rmspropColumnsStep(e: usize, off: usize, n: i32, hi: usize, lo: usize): i32 {
  const w = <usize>load<u32>(e, VALUE) + off;
  const g = <usize>load<u32>(e, GRAD) + off;
  const v = <usize>load<u32>(e, STATE_A) + off;
  const a = <usize>load<u32>(e, STATE_B) + off;
  const b = <usize>load<u32>(e, STATE_C) + off;
  const flags = load<i32>(e, FLAGS);
  const centered = (flags & CENTERED) != 0;
  const momentum = (flags & HAS_MOMENTUM) != 0;
  const tfjs = (flags & FORMULA_TFJS) != 0;
  const wd = load<f32>(e, WEIGHT_DECAY);
  const negLr = load<f32>(e, NEG_LR);
  const l2 = wd != 0;
  const vwd = f32x4.splat(wd);
  const vnegLr = f32x4.splat(negLr);
  const valpha = f32x4.splat(load<f32>(e, ALPHA));
  const vkeep = f32x4.splat(load<f32>(e, ONE_MINUS_ALPHA));
  const veps = f32x4.splat(load<f32>(e, EPS));
  const vmu = f32x4.splat(load<f32>(e, MOMENTUM));
  const vlr = f32x4.splat(-negLr);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o);
    const d = centeredV(v128.load(g + o), wv, vwd, l2, v128.load(hi + o), v128.load(lo + o));
    const vv = emaSquareV(valpha, v128.load(v + o), vkeep, d);
    v128.store(v + o, vv);
    let av = f32x4.splat(0);
    if (centered) {
      av = emaV(valpha, v128.load(a + o), vkeep, d);
      v128.store(a + o, av);
    }
    v128.store(w + o, f32x4.add(wv, deltaV(d, vv, av, b + o, centered, momentum, tfjs, vnegLr, vlr, veps, vmu)));
  }
  return i;
}

/**
 * RMSprop over one row of n values (v: square average, a: gradient average, b: momentum buffer):
 *   d = fl(g + wd·w) (centered in PHASE_STEP);  v = α·v + (1 − α)·d²;  centered: a = α·a + (1 − α)·d;
 *   torch: denom = √(v − a²) + eps (centered), √v + eps (not);
 *     momentum: b = μ·b + d/denom, Δ = −lr·b;  else Δ = −lr·d/denom.
 *   FORMULA_TFJS (tf.train.rmsprop, lr inside the buffer): x = (d·lr)/√(v − (a² + eps)) (centered),
 *     (d·lr)/√(v + eps) (not);  momentum: b = μ·b + x, Δ = −b;  else Δ = −x.
 * PHASE_APPLY recomputes Δ from the advanced state (and d from g and w, which is not written before).
 * `rows` rows `stride` bytes apart run as that many calls would (gc.ts ruleRow).
 */
export function rmspropRow(e: usize, off: usize, n: i32, phase: i32, hi: usize, lo: usize, mask: usize, tmp: usize, rows: i32, stride: usize): void {
  const w0 = <usize>load<u32>(e, VALUE) + off;
  const g0 = <usize>load<u32>(e, GRAD) + off;
  const v0 = <usize>load<u32>(e, STATE_A) + off;
  const a0 = <usize>load<u32>(e, STATE_B) + off;
  const b0 = <usize>load<u32>(e, STATE_C) + off;
  const flags = load<i32>(e, FLAGS);
  const centered = (flags & CENTERED) != 0;
  const momentum = (flags & HAS_MOMENTUM) != 0;
  const tfjs = (flags & FORMULA_TFJS) != 0;
  const wd = load<f32>(e, WEIGHT_DECAY);
  const negLr = load<f32>(e, NEG_LR);
  const alpha = load<f32>(e, ALPHA);
  const keep = load<f32>(e, ONE_MINUS_ALPHA);
  const eps = load<f32>(e, EPS);
  const mu = load<f32>(e, MOMENTUM);
  const lr = -negLr;
  const l2 = wd != 0;
  const center = phase == PHASE_STEP;
  const advance = phase != PHASE_APPLY;
  const toTmp = phase == PHASE_ADVANCE || phase == PHASE_ADVANCE_COLUMNS;
  for (let row = 0; row < rows; row++) {
    const rowOff = <usize>row * stride;
    const w = w0 + rowOff, g = g0 + rowOff, v = v0 + rowOff, a = a0 + rowOff, b = b0 + rowOff;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const vwd = f32x4.splat(wd);
      const vnegLr = f32x4.splat(negLr);
      const valpha = f32x4.splat(alpha);
      const vkeep = f32x4.splat(keep);
      const veps = f32x4.splat(eps);
      const vmu = f32x4.splat(mu);
      const vlr = f32x4.splat(lr);
      if (center && mask == 0) {
        // The common step (element.ts centeredV): hi and lo in registers, no per-vector test of
        // the phase.
        const vh = v128.load(hi);
        const vl = v128.load(lo);
        for (; i + 4 <= n; i += 4) {
          const o = <usize>i << 2;
          const wv = v128.load(w + o);
          const d = centeredV(v128.load(g + o), wv, vwd, l2, vh, vl);
          const vv = emaSquareV(valpha, v128.load(v + o), vkeep, d);
          v128.store(v + o, vv);
          let av = f32x4.splat(0);
          if (centered) {
            av = emaV(valpha, v128.load(a + o), vkeep, d);
            v128.store(a + o, av);
          }
          v128.store(w + o, f32x4.add(wv, deltaV(d, vv, av, b + o, centered, momentum, tfjs, vnegLr, vlr, veps, vmu)));
        }
      } else if (center) i = rmspropColumnsStep(e, off + rowOff, n, hi, lo);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const c = o & mask;
        const wv = v128.load(w + o);
        let step: v128;
        if (momentum && !advance) step = tfjs ? f32x4.neg(v128.load(b + o)) : f32x4.mul(vnegLr, v128.load(b + o));
        else {
          const d = directionV(v128.load(g + o), wv, vwd, l2, center, hi + c, lo + c);
          let vv: v128;
          let av = f32x4.splat(0);
          if (advance) {
            vv = emaSquareV(valpha, v128.load(v + o), vkeep, d);
            v128.store(v + o, vv);
            if (centered) {
              av = emaV(valpha, v128.load(a + o), vkeep, d);
              v128.store(a + o, av);
            }
          } else {
            vv = v128.load(v + o);
            if (centered) av = v128.load(a + o);
          }
          step = deltaV(d, vv, av, b + o, centered, momentum, tfjs, vnegLr, vlr, veps, vmu);
        }
        storeStepV(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
      }
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const c = o & mask;
      const wv = load<f32>(w + o);
      let step: f32;
      if (momentum && !advance) step = tfjs ? -load<f32>(b + o) : negLr * load<f32>(b + o);
      else {
        const d = direction(load<f32>(g + o), wv, wd, l2, center, hi + c, lo + c);
        let vv: f32;
        let av: f32 = 0;
        if (advance) {
          vv = emaSquare(alpha, load<f32>(v + o), keep, d);
          store<f32>(v + o, vv);
          if (centered) {
            av = ema(alpha, load<f32>(a + o), keep, d);
            store<f32>(a + o, av);
          }
        } else {
          vv = load<f32>(v + o);
          if (centered) av = load<f32>(a + o);
        }
        if (tfjs) {
          const x = (d * lr) / sqrt<f32>(centered ? vv - (av * av + eps) : vv + eps);
          if (momentum) {
            const bv = mu * load<f32>(b + o) + x;
            store<f32>(b + o, bv);
            step = -bv;
          } else step = -x;
        } else {
          if (centered) vv = vv - av * av;
          const denom = sqrt<f32>(vv) + eps;
          if (momentum) {
            const bv = mu * load<f32>(b + o) + d / denom;
            store<f32>(b + o, bv);
            step = negLr * bv;
          } else step = negLr * (d / denom);
        }
      }
      storeStep(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
    }
  }
}
