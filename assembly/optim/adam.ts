// Adam and AdamW (torch.optim.Adam, torch.optim.AdamW): the element update of the fused kernel.
import { FLAGS, FORMULA_TFJS, GRAD, PHASE_ADVANCE, PHASE_ADVANCE_COLUMNS, PHASE_APPLY, PHASE_STEP, MEAN_SPLATS, STATE_A, STATE_B, STATE_C, VALUE, WEIGHT_DECAY } from "./table";
import { direction, directionV, ema, emaSquare, emaSquareV, emaV } from "./element";

// f32 fields
const NEG_STEP_SIZE = 36; // −lr / (1 − β1ᵗ); FORMULA_TFJS: −lr
const BETA1 = 40;
const ONE_MINUS_BETA1 = 44;
const BETA2 = 48;
const ONE_MINUS_BETA2 = 52;
const EPS = 56;
const BC2_SQRT = 60; //    √(1 − β2ᵗ)
const DECAY = 64; //       1 − lr·wd (AdamW; 1 for Adam)
const NEG_LR_WD = 68; //   −lr·wd (AdamW; 0 for Adam)
const BC1 = 72; //         FORMULA_TFJS: 1 − β1ᵗ, β1ᵗ a float32 product as tf.train.adam keeps it
const BC2 = 76; //         FORMULA_TFJS: 1 − β2ᵗ, likewise
// flags
const AMSGRAD = 64;

/**
 * Adam / AdamW over one row of n values (torch.optim.Adam, torch.optim.AdamW):
 *   d = fl(g + wd·w), centered in PHASE_STEP: (d − hi) − lo;
 *   m = β1·m + (1 − β1)·d;  v = β2·v + (1 − β2)·d²;  v̂ = amsgrad ? max(v̂, v) : v;
 *   Δ = −lr/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + eps);  AdamW: w ← w·(1 − lr·wd) + Δ.
 * FORMULA_TFJS: the same Δ in tf.train.adam's operations, (m/BC1)/(√(v̂/BC2) + eps) · (−lr).
 * Δ depends only on the advanced state, so PHASE_ADVANCE_COLUMNS is PHASE_ADVANCE.
 * `rows` rows `stride` bytes apart from `off`, each as a call of its own would run it (column
 * units' pass 2: the entry is read once for all of them, 4–5% of an out-last step).
 */
export function adamRow(e: usize, off: usize, n: i32, phase: i32, hi: usize, lo: usize, mask: usize, tmp: usize, rows: i32, stride: usize): void {
  const w0 = <usize>load<u32>(e, VALUE) + off;
  const g0 = <usize>load<u32>(e, GRAD) + off;
  const m0 = <usize>load<u32>(e, STATE_A) + off;
  const v0 = <usize>load<u32>(e, STATE_B) + off;
  const vmax0 = <usize>load<u32>(e, STATE_C) + off;
  const flags = load<i32>(e, FLAGS);
  const amsgrad = (flags & AMSGRAD) != 0;
  const tfjs = (flags & FORMULA_TFJS) != 0;
  const bc1 = load<f32>(e, BC1);
  const bc2 = load<f32>(e, BC2);
  const wd = load<f32>(e, WEIGHT_DECAY);
  const negStepSize = load<f32>(e, NEG_STEP_SIZE);
  const beta1 = load<f32>(e, BETA1);
  const keep1 = load<f32>(e, ONE_MINUS_BETA1);
  const beta2 = load<f32>(e, BETA2);
  const keep2 = load<f32>(e, ONE_MINUS_BETA2);
  const eps = load<f32>(e, EPS);
  const invBc2: f32 = 1 / load<f32>(e, BC2_SQRT);
  const decay = load<f32>(e, DECAY);
  const negLrWd = load<f32>(e, NEG_LR_WD);
  const l2 = wd != 0;
  const decoupled = negLrWd != 0;
  const center = phase == PHASE_STEP;
  const advance = phase != PHASE_APPLY;
  const toTmp = phase == PHASE_ADVANCE || phase == PHASE_ADVANCE_COLUMNS;
  for (let r = 0; r < rows; r++) {
    const ro = <usize>r * stride;
    const w = w0 + ro, g = g0 + ro, m = m0 + ro, v = v0 + ro, vmax = vmax0 + ro;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const vwd = f32x4.splat(wd);
      const vstep = f32x4.splat(negStepSize);
      const vb1 = f32x4.splat(beta1);
      const vk1 = f32x4.splat(keep1);
      const vb2 = f32x4.splat(beta2);
      const vk2 = f32x4.splat(keep2);
      const veps = f32x4.splat(eps);
      const vinvBc2 = f32x4.splat(invBc2);
      const vdecay = f32x4.splat(decay);
      const vnegLrWd = f32x4.splat(negLrWd);
      const vbc1 = f32x4.splat(bc1);
      const vbc2 = f32x4.splat(bc2);
      if (phase == PHASE_STEP && !amsgrad && !tfjs && mask == 0) {
        // The common step: hi and lo in registers, no per-vector test of the phase (written out:
        // through element.ts centeredV, binaryen orders it otherwise and it ran 1.04× slower).
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
          const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vinvBc2), veps);
          v128.store(w + o, f32x4.add(f32x4.mul(wv, vdecay), f32x4.mul(vstep, f32x4.div(mv, denom))));
        }
      } else if (phase == PHASE_STEP && !amsgrad && mask != 0) {
        // Column units' step (each lane its column's mean): the generic loop without its per-vector
        // branches, one loop per formula.
        if (tfjs) {
          for (; i + 4 <= n; i += 4) {
            const o = <usize>i << 2;
            const wv = v128.load(w + o);
            const d = directionV(v128.load(g + o), wv, vwd, l2, true, hi + o, lo + o);
            const mv = emaV(vb1, v128.load(m + o), vk1, d);
            const vv = emaSquareV(vb2, v128.load(v + o), vk2, d);
            v128.store(m + o, mv);
            v128.store(v + o, vv);
            const step = f32x4.mul(f32x4.div(f32x4.div(mv, vbc1), f32x4.add(f32x4.sqrt(f32x4.div(vv, vbc2)), veps)), vstep);
            v128.store(w + o, f32x4.add(f32x4.mul(wv, vdecay), step));
          }
        } else {
          for (; i + 4 <= n; i += 4) {
            const o = <usize>i << 2;
            const wv = v128.load(w + o);
            const d = directionV(v128.load(g + o), wv, vwd, l2, true, hi + o, lo + o);
            const mv = emaV(vb1, v128.load(m + o), vk1, d);
            const vv = emaSquareV(vb2, v128.load(v + o), vk2, d);
            v128.store(m + o, mv);
            v128.store(v + o, vv);
            const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vinvBc2), veps);
            v128.store(w + o, f32x4.add(f32x4.mul(wv, vdecay), f32x4.mul(vstep, f32x4.div(mv, denom))));
          }
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
          if (amsgrad) {
            vv = f32x4.max(v128.load(vmax + o), vv);
            v128.store(vmax + o, vv);
          }
        } else {
          mv = v128.load(m + o);
          vv = v128.load((amsgrad ? vmax : v) + o);
        }
        let step: v128;
        if (tfjs) step = f32x4.mul(f32x4.div(f32x4.div(mv, vbc1), f32x4.add(f32x4.sqrt(f32x4.div(vv, vbc2)), veps)), vstep);
        else step = f32x4.mul(vstep, f32x4.div(mv, f32x4.add(f32x4.mul(f32x4.sqrt(vv), vinvBc2), veps)));
        if (phase == PHASE_STEP) {
          v128.store(w + o, f32x4.add(f32x4.mul(wv, vdecay), step));
          continue;
        }
        if (decoupled) step = f32x4.add(step, f32x4.mul(vnegLrWd, wv));
        if (toTmp) v128.store(tmp + o, step);
        else v128.store(w + o, f32x4.add(wv, f32x4.sub(f32x4.sub(step, v128.load(hi + c)), v128.load(lo + c))));
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
        if (amsgrad) {
          vv = max<f32>(load<f32>(vmax + o), vv);
          store<f32>(vmax + o, vv);
        }
      } else {
        mv = load<f32>(m + o);
        vv = load<f32>((amsgrad ? vmax : v) + o);
      }
      let step = tfjs ? (mv / bc1 / (sqrt<f32>(vv / bc2) + eps)) * negStepSize : negStepSize * (mv / (sqrt<f32>(vv) * invBc2 + eps));
      if (phase == PHASE_STEP) {
        store<f32>(w + o, wv * decay + step);
        continue;
      }
      if (decoupled) step = step + negLrWd * wv;
      if (toTmp) store<f32>(tmp + o, step);
      else store<f32>(w + o, wv + ((step - load<f32>(hi + c)) - load<f32>(lo + c)));
    }
  }
}

/** Whether `adamRowSumNext` can run this entry's PHASE_STEP: torch's formula without amsgrad. */
export function adamFusable(e: usize): bool {
  return (load<i32>(e, FLAGS) & (AMSGRAD | FORMULA_TFJS)) == 0;
}

// adamRowSumNext's splats (a step's scratch header, SCRATCH_SPLATS bytes): the unit mean's hi
// and lo, then adamSplats' constants from MEAN_SPLATS, each in 4 lanes.
const K_HI = 0;
const K_LO = 16;
const K_WD = MEAN_SPLATS;
const K_STEP = MEAN_SPLATS + 16;
const K_BETA1 = MEAN_SPLATS + 32;
const K_KEEP1 = MEAN_SPLATS + 48;
const K_BETA2 = MEAN_SPLATS + 64;
const K_KEEP2 = MEAN_SPLATS + 80;
const K_EPS = MEAN_SPLATS + 96;
const K_INV_BC2 = MEAN_SPLATS + 112;
const K_DECAY = MEAN_SPLATS + 128;

/** Stores adamRowSumNext's constants for entry e, each in 4 lanes, in the splats at k. */
export function adamSplats(e: usize, k: usize): void {
  if (!ASC_FEATURE_SIMD) return;
  v128.store(k, f32x4.splat(load<f32>(e, WEIGHT_DECAY)), K_WD);
  v128.store(k, f32x4.splat(load<f32>(e, NEG_STEP_SIZE)), K_STEP);
  v128.store(k, f32x4.splat(load<f32>(e, BETA1)), K_BETA1);
  v128.store(k, f32x4.splat(load<f32>(e, ONE_MINUS_BETA1)), K_KEEP1);
  v128.store(k, f32x4.splat(load<f32>(e, BETA2)), K_BETA2);
  v128.store(k, f32x4.splat(load<f32>(e, ONE_MINUS_BETA2)), K_KEEP2);
  v128.store(k, f32x4.splat(load<f32>(e, EPS)), K_EPS);
  v128.store(k, f32x4.splat(<f32>1 / load<f32>(e, BC2_SQRT)), K_INV_BC2);
  v128.store(k, f32x4.splat(load<f32>(e, DECAY)), K_DECAY);
}

/**
 * adamRow's PHASE_STEP over row `off` (its unit mean hi/lo and adamSplats' constants in the
 * splats at k; `adamFusable(e)`, SIMD build) fused with the sum of the next row's direction
 * d' = fl(g' + wd·w') at `next`, returned in float64 as sumRow sums it (4 float64x2
 * accumulators over 8 values, then the tail in order). The next row's loads overlap this row's
 * square roots and divisions; every value is the same as from the two loops apart.
 * The loop reads its constants from memory at one address, not from splats held in locals: V8
 * (Node 20) rebroadcast those inside this loop, recomputed 1/√(1 − β2ᵗ) there and spilled the
 * accumulators (bench/experiments.md). Its three forms (plain Adam, AdamW's decay, L2 and decay)
 * leave out what the tensor does not need, and read w just before they write it (the L2 form
 * reads it once more for g + wd·w, from cache): fewer live registers (w·1 = w exactly: the same
 * results).
 */
export function adamRowSumNext(e: usize, off: usize, next: usize, n: i32, k: usize, tmp: usize): f64 {
  if (load<f32>(e, WEIGHT_DECAY) != 0) return adamRowSumNextL2(e, off, next, n, k, tmp);
  if (load<f32>(e, DECAY) != 1) return adamRowSumNextDecay(e, off, next, n, k, tmp);
  return adamRowSumNextPlain(e, off, next, n, k, tmp);
}

function adamRowSumNextPlain(e: usize, off: usize, next: usize, n: i32, k: usize, tmp: usize): f64 {
  return adamRowSumNextBody(e, off, next, n, k, tmp, false, false);
}

function adamRowSumNextDecay(e: usize, off: usize, next: usize, n: i32, k: usize, tmp: usize): f64 {
  return adamRowSumNextBody(e, off, next, n, k, tmp, false, true);
}

function adamRowSumNextL2(e: usize, off: usize, next: usize, n: i32, k: usize, tmp: usize): f64 {
  return adamRowSumNextBody(e, off, next, n, k, tmp, true, true);
}

/** The loop of adamRowSumNext's three forms; `l2` (d = g + wd·w) and `decay` (w·(1 − lr·wd)) are compile-time constants. */
// @ts-ignore: decorator
@inline function adamRowSumNextBody(e: usize, off: usize, next: usize, n: i32, k: usize, tmp: usize, l2: bool, decay: bool): f64 {
  const w = <usize>load<u32>(e, VALUE) + off;
  const g = <usize>load<u32>(e, GRAD) + off;
  const m = <usize>load<u32>(e, STATE_A) + off;
  const v = <usize>load<u32>(e, STATE_B) + off;
  const wNext = <usize>load<u32>(e, VALUE) + next;
  const gNext = <usize>load<u32>(e, GRAD) + next;
  const wd = load<f32>(e, WEIGHT_DECAY);
  const n8 = n & ~7;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let a2 = f64x2.splat(0);
    let a3 = f64x2.splat(0);
    for (let i = 0; i < n8; i += 8) {
      const o = <usize>i << 2;
      let d0 = v128.load(gNext + o);
      let d1 = v128.load(gNext + o, 16);
      if (l2) {
        d0 = f32x4.add(d0, f32x4.mul(v128.load(k, K_WD), v128.load(wNext + o)));
        d1 = f32x4.add(d1, f32x4.mul(v128.load(k, K_WD), v128.load(wNext + o, 16)));
      }
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(d0));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(d0, d0, 2, 3, 2, 3)));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(d1));
      a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(d1, d1, 2, 3, 2, 3)));
      let c0 = v128.load(g + o);
      let c1 = v128.load(g + o, 16);
      if (l2) {
        c0 = f32x4.add(c0, f32x4.mul(v128.load(k, K_WD), v128.load(w + o)));
        c1 = f32x4.add(c1, f32x4.mul(v128.load(k, K_WD), v128.load(w + o, 16)));
      }
      c0 = f32x4.sub(f32x4.sub(c0, v128.load(k, K_HI)), v128.load(k, K_LO));
      c1 = f32x4.sub(f32x4.sub(c1, v128.load(k, K_HI)), v128.load(k, K_LO));
      const m0 = emaV(v128.load(k, K_BETA1), v128.load(m + o), v128.load(k, K_KEEP1), c0);
      const m1 = emaV(v128.load(k, K_BETA1), v128.load(m + o, 16), v128.load(k, K_KEEP1), c1);
      const v0 = emaSquareV(v128.load(k, K_BETA2), v128.load(v + o), v128.load(k, K_KEEP2), c0);
      const v1 = emaSquareV(v128.load(k, K_BETA2), v128.load(v + o, 16), v128.load(k, K_KEEP2), c1);
      v128.store(m + o, m0);
      v128.store(m + o, m1, 16);
      v128.store(v + o, v0);
      v128.store(v + o, v1, 16);
      const q0 = f32x4.div(m0, f32x4.add(f32x4.mul(f32x4.sqrt(v0), v128.load(k, K_INV_BC2)), v128.load(k, K_EPS)));
      const q1 = f32x4.div(m1, f32x4.add(f32x4.mul(f32x4.sqrt(v1), v128.load(k, K_INV_BC2)), v128.load(k, K_EPS)));
      let w0 = v128.load(w + o);
      let w1 = v128.load(w + o, 16);
      if (decay) {
        w0 = f32x4.mul(w0, v128.load(k, K_DECAY));
        w1 = f32x4.mul(w1, v128.load(k, K_DECAY));
      }
      v128.store(w + o, f32x4.add(w0, f32x4.mul(v128.load(k, K_STEP), q0)));
      v128.store(w + o, f32x4.add(w1, f32x4.mul(v128.load(k, K_STEP), q1)), 16);
    }
    const s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  }
  for (let i = n8; i < n; i++) {
    const o = <usize>i << 2;
    total += <f64>(l2 ? load<f32>(gNext + o) + wd * load<f32>(wNext + o) : load<f32>(gNext + o));
  }
  if (n8 < n) adamRow(e, off + (<usize>n8 << 2), n - n8, PHASE_STEP, k + K_HI, k + K_LO, 0, tmp, 1, 0);
  return total;
}
