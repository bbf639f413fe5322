// RAdam (torch.optim.RAdam; Liu et al., 2020): the element update of the fused kernel.
import { FLAGS, GRAD, PHASE_ADVANCE, PHASE_ADVANCE_COLUMNS, PHASE_APPLY, PHASE_STEP, STATE_A, STATE_B, VALUE, WEIGHT_DECAY } from "./table";
import { direction, directionV, ema, emaSquare, emaSquareV, emaV, storeStep, storeStepV } from "./element";

// f32 fields
const NEG_STEP_SIZE = 36; // rectified: −lr·r·√(1 − β2ᵗ)/(1 − β1ᵗ); else −lr/(1 − β1ᵗ)
const BETA1 = 40;
const ONE_MINUS_BETA1 = 44;
const BETA2 = 48;
const ONE_MINUS_BETA2 = 52;
const EPS = 56;
// flags
const RECTIFIED = 8; // ρₜ > 5: the adaptive step

/**
 * RAdam over one row of n values:
 *   d = fl(g + wd·w) (centered in PHASE_STEP);  m = β1·m + (1 − β1)·d;  v = β2·v + (1 − β2)·d²;
 *   rectified (ρₜ > 5): Δ = −lr·r/(1 − β1ᵗ) · m·√(1 − β2ᵗ)/(√v + eps);  else Δ = −lr/(1 − β1ᵗ) · m.
 * Δ depends only on the advanced state, so PHASE_ADVANCE_COLUMNS is PHASE_ADVANCE.
 * `rows` rows `stride` bytes apart run as that many calls would (gc.ts ruleRow).
 */
export function radamRow(e: usize, off: usize, n: i32, phase: i32, hi: usize, lo: usize, mask: usize, tmp: usize, rows: i32, stride: usize): void {
  const w0 = <usize>load<u32>(e, VALUE) + off;
  const g0 = <usize>load<u32>(e, GRAD) + off;
  const m0 = <usize>load<u32>(e, STATE_A) + off;
  const v0 = <usize>load<u32>(e, STATE_B) + off;
  const rectified = (load<i32>(e, FLAGS) & RECTIFIED) != 0;
  const wd = load<f32>(e, WEIGHT_DECAY);
  const negStepSize = load<f32>(e, NEG_STEP_SIZE);
  const beta1 = load<f32>(e, BETA1);
  const keep1 = load<f32>(e, ONE_MINUS_BETA1);
  const beta2 = load<f32>(e, BETA2);
  const keep2 = load<f32>(e, ONE_MINUS_BETA2);
  const eps = load<f32>(e, EPS);
  const l2 = wd != 0;
  const center = phase == PHASE_STEP;
  const advance = phase != PHASE_APPLY;
  const toTmp = phase == PHASE_ADVANCE || phase == PHASE_ADVANCE_COLUMNS;
  for (let row = 0; row < rows; row++) {
    const rowOff = <usize>row * stride;
    const w = w0 + rowOff, g = g0 + rowOff, m = m0 + rowOff, v = v0 + rowOff;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const vwd = f32x4.splat(wd);
      const vstep = f32x4.splat(negStepSize);
      const vb1 = f32x4.splat(beta1);
      const vk1 = f32x4.splat(keep1);
      const vb2 = f32x4.splat(beta2);
      const vk2 = f32x4.splat(keep2);
      const veps = f32x4.splat(eps);
      if (center && rectified && mask == 0) {
        // The common step with ρₜ > 5: hi and lo in registers, no per-vector test of the phase
        // (written out, as in adam.ts).
        const vh = v128.load(hi);
        const vl = v128.load(lo);
        for (; i + 4 <= n; i += 4) {
          const o = <usize>i << 2;
          const wv = v128.load(w + o);
          let d = v128.load(g + o);
          if (l2) d = f32x4.add(d, f32x4.mul(vwd, wv));
          d = f32x4.sub(f32x4.sub(d, vh), vl);
          const mv = emaV(vb1, v128.load(m + o), vk1, d);
          const vv = emaSquareV(vb2, v128.load(v + o), vk2, d);
          v128.store(m + o, mv);
          v128.store(v + o, vv);
          v128.store(w + o, f32x4.add(wv, f32x4.mul(vstep, f32x4.div(mv, f32x4.add(f32x4.sqrt(vv), veps)))));
        }
      }
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const c = o & mask;
        const wv = v128.load(w + o);
        let mv: v128, vv: v128;
        if (advance) {
          const d = directionV(v128.load(g + o), wv, vwd, l2, center, hi + c, lo + c);
          mv = emaV(vb1, v128.load(m + o), vk1, d);
          vv = emaSquareV(vb2, v128.load(v + o), vk2, d);
          v128.store(m + o, mv);
          v128.store(v + o, vv);
        } else {
          mv = v128.load(m + o);
          vv = v128.load(v + o);
        }
        const step = rectified
          ? f32x4.mul(vstep, f32x4.div(mv, f32x4.add(f32x4.sqrt(vv), veps)))
          : f32x4.mul(vstep, mv);
        storeStepV(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
      }
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const c = o & mask;
      const wv = load<f32>(w + o);
      let mv: f32, vv: f32;
      if (advance) {
        const d = direction(load<f32>(g + o), wv, wd, l2, center, hi + c, lo + c);
        mv = ema(beta1, load<f32>(m + o), keep1, d);
        vv = emaSquare(beta2, load<f32>(v + o), keep2, d);
        store<f32>(m + o, mv);
        store<f32>(v + o, vv);
      } else {
        mv = load<f32>(m + o);
        vv = load<f32>(v + o);
      }
      const step = rectified ? negStepSize * (mv / (sqrt<f32>(vv) + eps)) : negStepSize * mv;
      storeStep(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
    }
  }
}
