// Adamax (torch.optim.Adamax, or tf.train.adamax; Kingma & Ba, 2015): the element update of the fused kernel.
import { FLAGS, FORMULA_TFJS, GRAD, PHASE_ADVANCE, PHASE_ADVANCE_COLUMNS, PHASE_APPLY, PHASE_STEP, STATE_A, STATE_B, VALUE, WEIGHT_DECAY } from "./table";
import { centeredV, direction, directionV, ema, emaV, storeStep, storeStepV } from "./element";

// f32 fields
const NEG_STEP_SIZE = 36; // −lr/(1 + (t − 1)·lrDecay)/(1 − β1ᵗ)
const BETA1 = 40;
const ONE_MINUS_BETA1 = 44;
const BETA2 = 48;
const EPS = 52;

/**
 * Adamax over one row of n values:
 *   d = fl(g + wd·w) (centered in PHASE_STEP);  m = β1·m + (1 − β1)·d;
 *   torch: u = max(β2·u, |d| + eps), Δ = negStepSize · m/u;
 *   FORMULA_TFJS (tf.train.adamax): u = max(β2·u, |d|), Δ = negStepSize · m/(u + eps).
 * Δ depends only on the advanced state, so PHASE_ADVANCE_COLUMNS is PHASE_ADVANCE.
 * `rows` rows `stride` bytes apart run as that many calls would (gc.ts ruleRow).
 */
export function adamaxRow(e: usize, off: usize, n: i32, phase: i32, hi: usize, lo: usize, mask: usize, tmp: usize, rows: i32, stride: usize): void {
  const w0 = <usize>load<u32>(e, VALUE) + off;
  const g0 = <usize>load<u32>(e, GRAD) + off;
  const m0 = <usize>load<u32>(e, STATE_A) + off;
  const u0 = <usize>load<u32>(e, STATE_B) + off;
  const tfjs = (load<i32>(e, FLAGS) & FORMULA_TFJS) != 0;
  const wd = load<f32>(e, WEIGHT_DECAY);
  const negStepSize = load<f32>(e, NEG_STEP_SIZE);
  const beta1 = load<f32>(e, BETA1);
  const keep1 = load<f32>(e, ONE_MINUS_BETA1);
  const beta2 = load<f32>(e, BETA2);
  const eps = load<f32>(e, EPS);
  // eps added to |d| (torch) or to u in the step (tfjs); the other is 0, and |d| + 0, u + 0 are exact
  const epsNorm: f32 = tfjs ? 0 : eps;
  const epsStep: f32 = tfjs ? eps : 0;
  const l2 = wd != 0;
  const center = phase == PHASE_STEP;
  const advance = phase != PHASE_APPLY;
  const toTmp = phase == PHASE_ADVANCE || phase == PHASE_ADVANCE_COLUMNS;
  for (let row = 0; row < rows; row++) {
    const rowOff = <usize>row * stride;
    const w = w0 + rowOff, g = g0 + rowOff, m = m0 + rowOff, u = u0 + rowOff;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const vwd = f32x4.splat(wd);
      const vstep = f32x4.splat(negStepSize);
      const vb1 = f32x4.splat(beta1);
      const vk1 = f32x4.splat(keep1);
      const vb2 = f32x4.splat(beta2);
      const vepsNorm = f32x4.splat(epsNorm);
      const vepsStep = f32x4.splat(epsStep);
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
          const uv = f32x4.max(f32x4.mul(vb2, v128.load(u + o)), f32x4.add(f32x4.abs(d), vepsNorm));
          v128.store(m + o, mv);
          v128.store(u + o, uv);
          v128.store(w + o, f32x4.add(wv, f32x4.mul(vstep, f32x4.div(mv, f32x4.add(uv, vepsStep)))));
        }
      }
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const c = o & mask;
        const wv = v128.load(w + o);
        let mv: v128, uv: v128;
        if (advance) {
          const d = directionV(v128.load(g + o), wv, vwd, l2, center, hi + c, lo + c);
          mv = emaV(vb1, v128.load(m + o), vk1, d);
          uv = f32x4.max(f32x4.mul(vb2, v128.load(u + o)), f32x4.add(f32x4.abs(d), vepsNorm));
          v128.store(m + o, mv);
          v128.store(u + o, uv);
        } else {
          mv = v128.load(m + o);
          uv = v128.load(u + o);
        }
        const step = f32x4.mul(vstep, f32x4.div(mv, f32x4.add(uv, vepsStep)));
        storeStepV(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
      }
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const c = o & mask;
      const wv = load<f32>(w + o);
      let mv: f32, uv: f32;
      if (advance) {
        const d = direction(load<f32>(g + o), wv, wd, l2, center, hi + c, lo + c);
        mv = ema(beta1, load<f32>(m + o), keep1, d);
        uv = max<f32>(beta2 * load<f32>(u + o), abs<f32>(d) + epsNorm);
        store<f32>(m + o, mv);
        store<f32>(u + o, uv);
      } else {
        mv = load<f32>(m + o);
        uv = load<f32>(u + o);
      }
      const step = negStepSize * (mv / (uv + epsStep));
      storeStep(w + o, tmp + o, wv, step, center, toTmp, hi + c, lo + c);
    }
  }
}
