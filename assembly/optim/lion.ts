// Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"): the element update of
// the fused kernel. Decay is decoupled: WEIGHT_DECAY (coupled L2) is 0 and GC centers g.
import { GRAD, PHASE_ADVANCE, PHASE_ADVANCE_COLUMNS, PHASE_APPLY, PHASE_STEP, STATE_A, VALUE } from "./table";
import { ema, emaV } from "./element";

// f32 fields
const NEG_LR = 36;
const BETA1 = 40;
const ONE_MINUS_BETA1 = 44;
const BETA2 = 48;
const ONE_MINUS_BETA2 = 52;
const DECAY = 56; //     1 − lr·wd
const NEG_LR_WD = 60; // −lr·wd

/** sign(x) in 4 lanes: ±1, and x itself for ±0 and NaN (as torch.sign). */
// @ts-ignore: decorator
@inline function signLanes(x: v128): v128 {
  const nonzero = v128.or(f32x4.gt(x, f32x4.splat(0)), f32x4.lt(x, f32x4.splat(0)));
  const unit = v128.or(v128.and(x, i32x4.splat(0x80000000)), f32x4.splat(1));
  return v128.bitselect(unit, x, nonzero);
}

/** sign(x): ±1, and x itself for ±0 and NaN (as torch.sign). */
// @ts-ignore: decorator
@inline function sign(x: f32): f32 {
  return x > 0 ? 1 : x < 0 ? -1 : x;
}

/**
 * Lion over one row of n values (m: the momentum):
 *   g centered in PHASE_STEP;  c = β1·m + (1 − β1)·g;  w ← w·(1 − lr·wd) − lr·sign(c);
 *   m = β2·m + (1 − β2)·g.  gc "update" centers Δ = −lr·sign(c) − lr·wd·w.
 * c needs the old m, so PHASE_ADVANCE_COLUMNS leaves m and PHASE_APPLY advances it.
 * `rows` rows `stride` bytes apart run as that many calls would (gc.ts ruleRow).
 */
export function lionRow(e: usize, off: usize, n: i32, phase: i32, hi: usize, lo: usize, mask: usize, tmp: usize, rows: i32, stride: usize): void {
  const w0 = <usize>load<u32>(e, VALUE) + off;
  const g0 = <usize>load<u32>(e, GRAD) + off;
  const m0 = <usize>load<u32>(e, STATE_A) + off;
  const negLr = load<f32>(e, NEG_LR);
  const beta1 = load<f32>(e, BETA1);
  const keep1 = load<f32>(e, ONE_MINUS_BETA1);
  const beta2 = load<f32>(e, BETA2);
  const keep2 = load<f32>(e, ONE_MINUS_BETA2);
  const decay = load<f32>(e, DECAY);
  const negLrWd = load<f32>(e, NEG_LR_WD);
  const center = phase == PHASE_STEP;
  const advance = phase != PHASE_ADVANCE_COLUMNS;
  const toTmp = phase == PHASE_ADVANCE || phase == PHASE_ADVANCE_COLUMNS;
  for (let row = 0; row < rows; row++) {
    const rowOff = <usize>row * stride;
    const w = w0 + rowOff, g = g0 + rowOff, m = m0 + rowOff;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const vnegLr = f32x4.splat(negLr);
      const vb1 = f32x4.splat(beta1);
      const vk1 = f32x4.splat(keep1);
      const vb2 = f32x4.splat(beta2);
      const vk2 = f32x4.splat(keep2);
      const vdecay = f32x4.splat(decay);
      const vnegLrWd = f32x4.splat(negLrWd);
      if (center && mask == 0) {
        // The common step (element.ts centeredV): hi and lo in registers, no per-vector test of
        // the phase.
        const vh = v128.load(hi);
        const vl = v128.load(lo);
        for (; i + 4 <= n; i += 4) {
          const o = <usize>i << 2;
          const gv = f32x4.sub(f32x4.sub(v128.load(g + o), vh), vl);
          const mv = v128.load(m + o);
          const update = f32x4.mul(vnegLr, signLanes(emaV(vb1, mv, vk1, gv)));
          v128.store(m + o, emaV(vb2, mv, vk2, gv));
          v128.store(w + o, f32x4.add(f32x4.mul(v128.load(w + o), vdecay), update));
        }
      }
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const c = o & mask;
        const wv = v128.load(w + o);
        let gv = v128.load(g + o);
        if (center) gv = f32x4.sub(f32x4.sub(gv, v128.load(hi + c)), v128.load(lo + c));
        const mv = v128.load(m + o);
        const update = f32x4.mul(vnegLr, signLanes(emaV(vb1, mv, vk1, gv)));
        if (advance) v128.store(m + o, emaV(vb2, mv, vk2, gv));
        if (center) {
          v128.store(w + o, f32x4.add(f32x4.mul(wv, vdecay), update));
          continue;
        }
        const step = f32x4.add(update, f32x4.mul(vnegLrWd, wv));
        if (toTmp) v128.store(tmp + o, step);
        else v128.store(w + o, f32x4.add(wv, f32x4.sub(f32x4.sub(step, v128.load(hi + c)), v128.load(lo + c))));
      }
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const c = o & mask;
      const wv = load<f32>(w + o);
      let gv = load<f32>(g + o);
      if (center) gv = (gv - load<f32>(hi + c)) - load<f32>(lo + c);
      const mv = load<f32>(m + o);
      const update = negLr * sign(ema(beta1, mv, keep1, gv));
      if (advance) store<f32>(m + o, ema(beta2, mv, keep2, gv));
      if (center) {
        store<f32>(w + o, wv * decay + update);
        continue;
      }
      const step = update + negLrWd * wv;
      if (toTmp) store<f32>(tmp + o, step);
      else store<f32>(w + o, wv + ((step - load<f32>(hi + c)) - load<f32>(lo + c)));
    }
  }
}
