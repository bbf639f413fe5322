// Adadelta (torch.optim.Adadelta, or tf.train.adadelta; Zeiler, 2012): the element update of the fused kernel.
import { FLAGS, FORMULA_TFJS, GRAD, PHASE_ADVANCE, PHASE_ADVANCE_COLUMNS, PHASE_APPLY, PHASE_STEP, STATE_A, STATE_B, VALUE, WEIGHT_DECAY } from "./table";
import { centeredV, direction, directionV, emaSquare, emaSquareV, storeStep, storeStepV } from "./element";

// f32 fields
const NEG_LR = 36;
const RHO = 40;
const ONE_MINUS_RHO = 44;
const EPS = 48;

/**
 * Adadelta over one row of n values (v: square average, u: accumulated squared update):
 *   d = fl(g + wd·w) (centered in PHASE_STEP);  v = ρ·v + (1 − ρ)·d²;
 *   δ = √(u + eps)/√(v + eps) · d;  u = ρ·u + (1 − ρ)·δ²;  Δ = −lr·δ.
 * FORMULA_TFJS (tf.train.adadelta): δ = √(u + eps)/√(v₀ + eps) · d with v₀ the square average
 * before this step's update.
 * δ needs the old u, so PHASE_ADVANCE_COLUMNS advances only v and PHASE_APPLY advances u
 * (FORMULA_TFJS: δ needs the old v too, so PHASE_ADVANCE_COLUMNS advances nothing, PHASE_APPLY both).
 * `rows` rows `stride` bytes apart run as that many calls would (gc.ts ruleRow).
 */
export function adadeltaRow(e: usize, off: usize, n: i32, phase: i32, hi: usize, lo: usize, mask: usize, tmp: usize, rows: i32, stride: usize): void {
  const w0 = <usize>load<u32>(e, VALUE) + off;
  const g0 = <usize>load<u32>(e, GRAD) + off;
  const v0 = <usize>load<u32>(e, STATE_A) + off;
  const u0 = <usize>load<u32>(e, STATE_B) + off;
  const wd = load<f32>(e, WEIGHT_DECAY);
  const negLr = load<f32>(e, NEG_LR);
  const rho = load<f32>(e, RHO);
  const keep = load<f32>(e, ONE_MINUS_RHO);
  const eps = load<f32>(e, EPS);
  const tfjs = (load<i32>(e, FLAGS) & FORMULA_TFJS) != 0;
  const l2 = wd != 0;
  const center = phase == PHASE_STEP;
  const advanceV = tfjs ? phase != PHASE_ADVANCE_COLUMNS : phase != PHASE_APPLY;
  const advanceU = phase != PHASE_ADVANCE_COLUMNS;
  const toTmp = phase == PHASE_ADVANCE || phase == PHASE_ADVANCE_COLUMNS;
  for (let row = 0; row < rows; row++) {
    const rowOff = <usize>row * stride;
    const w = w0 + rowOff, g = g0 + rowOff, v = v0 + rowOff, u = u0 + rowOff;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const vwd = f32x4.splat(wd);
      const vnegLr = f32x4.splat(negLr);
      const vrho = f32x4.splat(rho);
      const vkeep = f32x4.splat(keep);
      const veps = f32x4.splat(eps);
      if (center && mask == 0) {
        // The common step (element.ts centeredV): hi and lo in registers, no per-vector test of
        // the phase.
        const vh = v128.load(hi);
        const vl = v128.load(lo);
        for (; i + 4 <= n; i += 4) {
          const o = <usize>i << 2;
          const wv = v128.load(w + o);
          const d = centeredV(v128.load(g + o), wv, vwd, l2, vh, vl);
          const old = v128.load(v + o);
          const vv = emaSquareV(vrho, old, vkeep, d);
          v128.store(v + o, vv);
          const uv = v128.load(u + o);
          const delta = f32x4.mul(f32x4.div(f32x4.sqrt(f32x4.add(uv, veps)), f32x4.sqrt(f32x4.add(tfjs ? old : vv, veps))), d);
          v128.store(u + o, emaSquareV(vrho, uv, vkeep, delta));
          v128.store(w + o, f32x4.add(wv, f32x4.mul(vnegLr, delta)));
        }
      }
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const c = o & mask;
        const wv = v128.load(w + o);
        const d = directionV(v128.load(g + o), wv, vwd, l2, center, hi + c, lo + c);
        const old = v128.load(v + o);
        let vv = old;
        if (advanceV) {
          vv = emaSquareV(vrho, old, vkeep, d);
          v128.store(v + o, vv);
        }
        const uv = v128.load(u + o);
        const delta = f32x4.mul(f32x4.div(f32x4.sqrt(f32x4.add(uv, veps)), f32x4.sqrt(f32x4.add(tfjs ? old : vv, veps))), d);
        if (advanceU) v128.store(u + o, emaSquareV(vrho, uv, vkeep, delta));
        const step = f32x4.mul(vnegLr, delta);
        storeStepV(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
      }
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const c = o & mask;
      const wv = load<f32>(w + o);
      const d = direction(load<f32>(g + o), wv, wd, l2, center, hi + c, lo + c);
      const old = load<f32>(v + o);
      let vv = old;
      if (advanceV) {
        vv = emaSquare(rho, old, keep, d);
        store<f32>(v + o, vv);
      }
      const uv = load<f32>(u + o);
      const delta = (sqrt<f32>(uv + eps) / sqrt<f32>((tfjs ? old : vv) + eps)) * d;
      if (advanceU) store<f32>(u + o, emaSquare(rho, uv, keep, delta));
      const step = negLr * delta;
      storeStep(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
    }
  }
}
