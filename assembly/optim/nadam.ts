// NAdam (torch.optim.NAdam; Dozat, 2016): the element update of the fused kernel.
import { GRAD, PHASE_ADVANCE, PHASE_ADVANCE_COLUMNS, PHASE_APPLY, PHASE_STEP, STATE_A, STATE_B, VALUE, WEIGHT_DECAY } from "./table";
import { centeredV, direction, directionV, ema, emaSquare, emaSquareV, emaV, storeStep, storeStepV } from "./element";

// f32 fields (μₜ, μₜ₊₁ and the μ-product are computed by src/optim/rules/nadam.ts in float64)
const COEF_D = 36; //  −lr·(1 − μₜ)/(1 − Πᵢ≤ₜ μᵢ)
const COEF_M = 40; //  −lr·μₜ₊₁/(1 − Πᵢ≤ₜ₊₁ μᵢ)
const BETA1 = 44;
const ONE_MINUS_BETA1 = 48;
const BETA2 = 52;
const ONE_MINUS_BETA2 = 56;
const EPS = 60;
const INV_BC2_SQRT = 64; // 1/√(1 − β2ᵗ)

/**
 * NAdam over one row of n values:
 *   d = fl(g + wd·w) (centered in PHASE_STEP);  m = β1·m + (1 − β1)·d;  v = β2·v + (1 − β2)·d²;
 *   Δ = (coefD·d + coefM·m) / (√v / √(1 − β2ᵗ) + eps).
 * PHASE_APPLY recomputes d from g and w (w is not written before that).
 * `rows` rows `stride` bytes apart run as that many calls would (gc.ts ruleRow).
 */
export function nadamRow(e: usize, off: usize, n: i32, phase: i32, hi: usize, lo: usize, mask: usize, tmp: usize, rows: i32, stride: usize): void {
  const w0 = <usize>load<u32>(e, VALUE) + off;
  const g0 = <usize>load<u32>(e, GRAD) + off;
  const m0 = <usize>load<u32>(e, STATE_A) + off;
  const v0 = <usize>load<u32>(e, STATE_B) + off;
  const wd = load<f32>(e, WEIGHT_DECAY);
  const coefD = load<f32>(e, COEF_D);
  const coefM = load<f32>(e, COEF_M);
  const beta1 = load<f32>(e, BETA1);
  const keep1 = load<f32>(e, ONE_MINUS_BETA1);
  const beta2 = load<f32>(e, BETA2);
  const keep2 = load<f32>(e, ONE_MINUS_BETA2);
  const eps = load<f32>(e, EPS);
  const invBc2 = load<f32>(e, INV_BC2_SQRT);
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
      const vcd = f32x4.splat(coefD);
      const vcm = f32x4.splat(coefM);
      const vb1 = f32x4.splat(beta1);
      const vk1 = f32x4.splat(keep1);
      const vb2 = f32x4.splat(beta2);
      const vk2 = f32x4.splat(keep2);
      const veps = f32x4.splat(eps);
      const vinvBc2 = f32x4.splat(invBc2);
      if (center && mask == 0) {
        // The common step (element.ts centeredV): hi and lo in registers, no per-vector test of
        // the phase.
        const vh = v128.load(hi);
        const vl = v128.load(lo);
        for (; i + 4 <= n; i += 4) {
          const o = <usize>i << 2;
          const wv = v128.load(w + o);
          const d = centeredV(v128.load(g + o), wv, vwd, l2, vh, vl);
          const mv = emaV(vb1, v128.load(m + o), vk1, d);
          const vv = emaSquareV(vb2, v128.load(v + o), vk2, d);
          v128.store(m + o, mv);
          v128.store(v + o, vv);
          const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vinvBc2), veps);
          v128.store(w + o, f32x4.add(wv, f32x4.div(f32x4.add(f32x4.mul(vcd, d), f32x4.mul(vcm, mv)), denom)));
        }
      }
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const c = o & mask;
        const wv = v128.load(w + o);
        const d = directionV(v128.load(g + o), wv, vwd, l2, center, hi + c, lo + c);
        let mv: v128, vv: v128;
        if (advance) {
          mv = emaV(vb1, v128.load(m + o), vk1, d);
          vv = emaSquareV(vb2, v128.load(v + o), vk2, d);
          v128.store(m + o, mv);
          v128.store(v + o, vv);
        } else {
          mv = v128.load(m + o);
          vv = v128.load(v + o);
        }
        const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vinvBc2), veps);
        const step = f32x4.div(f32x4.add(f32x4.mul(vcd, d), f32x4.mul(vcm, mv)), denom);
        storeStepV(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
      }
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const c = o & mask;
      const wv = load<f32>(w + o);
      const d = direction(load<f32>(g + o), wv, wd, l2, center, hi + c, lo + c);
      let mv: f32, vv: f32;
      if (advance) {
        mv = ema(beta1, load<f32>(m + o), keep1, d);
        vv = emaSquare(beta2, load<f32>(v + o), keep2, d);
        store<f32>(m + o, mv);
        store<f32>(v + o, vv);
      } else {
        mv = load<f32>(m + o);
        vv = load<f32>(v + o);
      }
      const denom = sqrt<f32>(vv) * invBc2 + eps;
      const step = (coefD * d + coefM * mv) / denom;
      storeStep(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
    }
  }
}
