// Fused optimizer steps (SGD, Adam, AdamW) with Gradient Centralization (Yong et al., 2020).
// One call steps every tensor listed in a descriptor table. Per tensor, GC needs one extra pass:
//   gc "gradient": pass 1 sums the direction d = g + wd·w per unit (float64, as Σg + wd·Σw);
//                  pass 2 centers g with that mean split into hi + lo, d = ((g − hi) − lo) + wd·w,
//                  then advances the state and the weight.
//   gc "update":   pass 1 advances the state and sums the step Δ per unit; pass 2 centers Δ and
//                  adds it to the weight, so every unit's weight mean stays where it was
//                  (eᵀ(w − w⁰) = 0). Row units keep Δ in a row buffer between the passes; column
//                  units recompute it in pass 2 from the advanced state (same float32 operations).
//                  SGD runs "update" as "gradient": the same step, more accurately, once its
//                  momentum buffer is centered (see stepTensor).
//   gc off:        one pass.
// A tensor is a row-major [rows, cols] matrix whose units are its rows (out-first) or its
// columns (out-last); rows are processed one at a time so a unit's two passes over a row
// stay in cache.

import { accumulateRow, centralizeColumns, centralizeRows, lowPart, sumRow } from "./centralize";

// Descriptor table: ENTRY_BYTES per tensor. i32 fields:
const VALUE = 0; //   address of the weights
const GRAD = 4; //    address of the gradient
const STATE_A = 8; // SGD momentum buffer | Adam first moment m
const STATE_B = 12; // Adam second moment v
const STATE_C = 16; // Adam max of v (amsgrad)
const ROWS = 20;
const COLS = 24;
const FLAGS = 28;
// f32 fields, both rules:
const WEIGHT_DECAY = 32; // L2: added to the gradient
// SGD:
const NEG_LR = 36; //     −lr
const MOMENTUM = 40; //   μ
const KEEP = 44; //       1 − dampening
// Adam / AdamW:
const NEG_STEP_SIZE = 36; // −lr / (1 − β1ᵗ)
const BETA1 = 40;
const ONE_MINUS_BETA1 = 44;
const BETA2 = 48;
const ONE_MINUS_BETA2 = 52;
const EPS = 56;
const BC2_SQRT = 60; //    √(1 − β2ᵗ)
const DECAY = 64; //       1 − lr·wd (AdamW; 1 for Adam)
const NEG_LR_WD = 68; //   −lr·wd (AdamW; 0 for Adam)

/** Bytes of one descriptor-table entry. */
export const OPTIMIZER_ENTRY_BYTES = 80;

// FLAGS bits
const GC_MODE = 3; // 0 off, 1 "gradient", 2 "update"
const GC_GRADIENT = 1;
const GC_UPDATE = 2;
const UNITS_ARE_COLUMNS = 4;
const HAS_MOMENTUM = 8;
const NESTEROV = 16;
const FIRST_STEP = 32; // SGD: the momentum buffer starts as d
const AMSGRAD = 64;
const CENTER_BUFFER = 128; // SGD gc "update": center the momentum buffer before the step

// What one pass over a row does.
const PHASE_STEP = 0; //    d centered by (hi, lo) (zeros when GC is off), state advanced, w += Δ
const PHASE_ADVANCE = 1; // state advanced, Δ written to tmp (gc "update", pass 1)
const PHASE_APPLY = 2; //   Δ recomputed from the advanced state, w += (Δ − hi) − lo (pass 2, column units)

const RULE_SGD = 0;
const RULE_ADAM = 1;

/**
 * SGD over one row of n values (torch.optim.SGD), the direction centered by (hi, lo):
 *   d = ((g − hi) − lo) + wd·w;  buf = d on the first step, else μ·buf + (1 − dampening)·d;
 *   s = nesterov ? d + μ·buf : buf (s = d without momentum);  w ← w − lr·s.
 * hi/lo are read at (lane offset & mask): mask 0 reads one splat, mask ~0 one value per column.
 */
function sgdRow(e: usize, off: usize, n: i32, hi: usize, lo: usize, mask: usize): void {
  const w = <usize>load<u32>(e, VALUE) + off;
  const g = <usize>load<u32>(e, GRAD) + off;
  const buf = <usize>load<u32>(e, STATE_A) + off;
  const flags = load<i32>(e, FLAGS);
  const wd = load<f32>(e, WEIGHT_DECAY);
  const negLr = load<f32>(e, NEG_LR);
  const mu = load<f32>(e, MOMENTUM);
  const keep = load<f32>(e, KEEP);
  const l2 = wd != 0;
  const momentum = (flags & HAS_MOMENTUM) != 0;
  const nesterov = (flags & NESTEROV) != 0;
  const first = (flags & FIRST_STEP) != 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vwd = f32x4.splat(wd);
    const vmu = f32x4.splat(mu);
    const vkeep = f32x4.splat(keep);
    const vnegLr = f32x4.splat(negLr);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const c = o & mask;
      const wv = v128.load(w + o);
      let d = f32x4.sub(f32x4.sub(v128.load(g + o), v128.load(hi + c)), v128.load(lo + c));
      if (l2) d = f32x4.add(d, f32x4.mul(vwd, wv));
      let s = d;
      if (momentum) {
        const b = first ? d : f32x4.add(f32x4.mul(vmu, v128.load(buf + o)), f32x4.mul(vkeep, d));
        v128.store(buf + o, b);
        s = nesterov ? f32x4.add(d, f32x4.mul(vmu, b)) : b;
      }
      v128.store(w + o, f32x4.add(wv, f32x4.mul(vnegLr, s)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const c = o & mask;
    const wv = load<f32>(w + o);
    let d = (load<f32>(g + o) - load<f32>(hi + c)) - load<f32>(lo + c);
    if (l2) d = d + wd * wv;
    let s = d;
    if (momentum) {
      const b = first ? d : mu * load<f32>(buf + o) + keep * d;
      store<f32>(buf + o, b);
      s = nesterov ? d + mu * b : b;
    }
    store<f32>(w + o, wv + negLr * s);
  }
}

/**
 * Adam / AdamW over one row of n values (torch.optim.Adam, torch.optim.AdamW):
 *   d = g + wd·w;  m = β1·m + (1 − β1)·d;  v = β2·v + (1 − β2)·d²;  v̂ = amsgrad ? max(v̂, v) : v;
 *   Δ = −lr/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + eps);  AdamW: w ← w·(1 − lr·wd) + Δ.
 * hi/lo as in sgdRow.
 */
function adamRow(e: usize, off: usize, n: i32, phase: i32, hi: usize, lo: usize, mask: usize, tmp: usize): void {
  const w = <usize>load<u32>(e, VALUE) + off;
  const g = <usize>load<u32>(e, GRAD) + off;
  const m = <usize>load<u32>(e, STATE_A) + off;
  const v = <usize>load<u32>(e, STATE_B) + off;
  const vmax = <usize>load<u32>(e, STATE_C) + off;
  const amsgrad = (load<i32>(e, FLAGS) & AMSGRAD) != 0;
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
    if (phase == PHASE_STEP && !amsgrad && mask == 0) {
      // The common step (a row unit's mean, or zeros when GC is off, in one splat): no loads of
      // hi/lo and no per-vector branches but L2's.
      const vh = v128.load(hi);
      const vl = v128.load(lo);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const wv = v128.load(w + o);
        let d = f32x4.sub(f32x4.sub(v128.load(g + o), vh), vl);
        if (l2) d = f32x4.add(d, f32x4.mul(vwd, wv));
        const mv = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vk1, d));
        const vv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vk2, f32x4.mul(d, d)));
        v128.store(m + o, mv);
        v128.store(v + o, vv);
        const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vinvBc2), veps);
        v128.store(w + o, f32x4.add(f32x4.mul(wv, vdecay), f32x4.mul(vstep, f32x4.div(mv, denom))));
      }
    }
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const c = o & mask;
      const wv = v128.load(w + o);
      let mv: v128, vv: v128;
      if (advance) {
        let d = v128.load(g + o);
        if (center) d = f32x4.sub(f32x4.sub(d, v128.load(hi + c)), v128.load(lo + c));
        if (l2) d = f32x4.add(d, f32x4.mul(vwd, wv));
        mv = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vk1, d));
        vv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vk2, f32x4.mul(d, d)));
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
      const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vinvBc2), veps);
      let step = f32x4.mul(vstep, f32x4.div(mv, denom));
      if (phase == PHASE_STEP) {
        v128.store(w + o, f32x4.add(f32x4.mul(wv, vdecay), step));
        continue;
      }
      if (decoupled) step = f32x4.add(step, f32x4.mul(vnegLrWd, wv));
      if (phase == PHASE_ADVANCE) v128.store(tmp + o, step);
      else v128.store(w + o, f32x4.add(wv, f32x4.sub(f32x4.sub(step, v128.load(hi + c)), v128.load(lo + c))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const c = o & mask;
    const wv = load<f32>(w + o);
    let mv: f32, vv: f32;
    if (advance) {
      let d = load<f32>(g + o);
      if (center) d = (d - load<f32>(hi + c)) - load<f32>(lo + c);
      if (l2) d = d + wd * wv;
      mv = beta1 * load<f32>(m + o) + keep1 * d;
      vv = beta2 * load<f32>(v + o) + keep2 * (d * d);
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
    const denom = sqrt<f32>(vv) * invBc2 + eps;
    let step = negStepSize * (mv / denom);
    if (phase == PHASE_STEP) {
      store<f32>(w + o, wv * decay + step);
      continue;
    }
    if (decoupled) step = step + negLrWd * wv;
    if (phase == PHASE_ADVANCE) store<f32>(tmp + o, step);
    else store<f32>(w + o, wv + ((step - load<f32>(hi + c)) - load<f32>(lo + c)));
  }
}

// @ts-ignore: decorator
@inline function ruleRow(rule: i32, e: usize, off: usize, n: i32, phase: i32, hi: usize, lo: usize, mask: usize, tmp: usize): void {
  if (rule == RULE_SGD) sgdRow(e, off, n, hi, lo, mask);
  else adamRow(e, off, n, phase, hi, lo, mask, tmp);
}

/**
 * Σ over row r of what gc "gradient" centers, in float64: d = g + wd·w, summed as Σg + wd·Σw so
 * that a large common offset in g is not rounded into d before its mean is taken.
 */
function directionRowSum(e: usize, off: usize, n: i32): f64 {
  const wd = load<f32>(e, WEIGHT_DECAY);
  const total = sumRow(<usize>load<u32>(e, GRAD) + off, n);
  return wd == 0 ? total : total + <f64>wd * sumRow(<usize>load<u32>(e, VALUE) + off, n);
}

/** w[i] ← w[i] + ((Δ[i] − hi) − lo) for i < n: the last pass of gc "update" over a row whose Δ is in tmp. */
function addCenteredRow(w: usize, delta: usize, n: i32, hi: f32, lo: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vh = f32x4.splat(hi);
    const vl = f32x4.splat(lo);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(w + o, f32x4.add(v128.load(w + o), f32x4.sub(f32x4.sub(v128.load(delta + o), vh), vl)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(w + o, load<f32>(w + o) + ((load<f32>(delta + o) - hi) - lo));
  }
}

/** Stores a unit mean's hi and lo parts, each repeated in 4 lanes. */
function storeSplat(at: usize, hi: f32, lo: f32): void {
  for (let k = 0; k < 4; k++) {
    store<f32>(at + (<usize>k << 2), hi);
    store<f32>(at + 16 + (<usize>k << 2), lo);
  }
}

/**
 * One tensor: its gc mode's passes over its rows or columns. Scratch layout (src/optim/table.ts
 * sizes it): 32 bytes of hi/lo splat, one row of float32 (16-aligned), and for column units
 * two float64 sums, float32 hi and float32 lo per column.
 */
function stepTensor(rule: i32, e: usize, scratch: usize): void {
  const rows = load<i32>(e, ROWS);
  const cols = load<i32>(e, COLS);
  if (rows == 0 || cols == 0) return;
  const flags = load<i32>(e, FLAGS);
  // SGD's step s is a linear combination of the momentum buffer and directions d, so P s = s when
  // the buffer and every d are centered: gc "update" runs as "gradient" (centering −lr·buf after
  // rounding it to float32 would be ~500× less accurate on gradients of 1000 + N(0, 1)). The buffer
  // is centered when every step since it was made centered its d over these units; when not (gc
  // was off, the layout or convOnly changed, a checkpoint without that fact was loaded),
  // src/optim sets CENTER_BUFFER for one step and the buffer is centered first:
  // μ·P buf + (1 − dampening)·P d = P(μ·buf + (1 − dampening)·d), the reference's "update".
  const mode = rule == RULE_SGD && (flags & GC_MODE) == GC_UPDATE ? GC_GRADIENT : flags & GC_MODE;
  const rowBytes = <usize>cols << 2;
  const splat = scratch; // 32 bytes: hi ×4, lo ×4
  const tmp = scratch + 32;
  const sums = tmp + ((rowBytes + 15) & ~15); // column units: Σg (or ΣΔ) per column
  if (mode != GC_GRADIENT && mode != GC_UPDATE) {
    memory.fill(splat, 0, 32);
    for (let r = 0; r < rows; r++) ruleRow(rule, e, <usize>r * rowBytes, cols, PHASE_STEP, splat, splat + 16, 0, tmp);
    return;
  }
  if ((flags & CENTER_BUFFER) != 0) {
    const buf = <usize>load<u32>(e, STATE_A);
    if ((flags & UNITS_ARE_COLUMNS) == 0) centralizeRows(buf, rows, cols);
    else centralizeColumns(buf, rows, cols, sums); // columnScratchBytes(cols) ≤ the 24·cols there
  }
  if ((flags & UNITS_ARE_COLUMNS) == 0) {
    // A row is a unit: its mean is known after pass 1, and for gc "update" its Δ is still in tmp.
    const w = <usize>load<u32>(e, VALUE);
    for (let r = 0; r < rows; r++) {
      const off = <usize>r * rowBytes;
      let total: f64;
      if (mode == GC_UPDATE) {
        ruleRow(rule, e, off, cols, PHASE_ADVANCE, 0, 0, 0, tmp);
        total = sumRow(tmp, cols);
      } else total = directionRowSum(e, off, cols);
      const mean = total / <f64>cols;
      const hi = <f32>mean;
      const lo = lowPart(mean, hi);
      if (mode == GC_UPDATE) addCenteredRow(w + off, tmp, cols, hi, lo);
      else {
        storeSplat(splat, hi, lo);
        ruleRow(rule, e, off, cols, PHASE_STEP, splat, splat + 16, 0, tmp);
      }
    }
    return;
  }
  // Units are columns: every row contributes to every mean, so pass 2 recomputes Δ (gc "update").
  const finalPhase = mode == GC_UPDATE ? PHASE_APPLY : PHASE_STEP;
  const weightSums = sums + (<usize>cols << 3); // Σw per column, for L2
  const hi = weightSums + (<usize>cols << 3);
  const lo = hi + rowBytes;
  const w = <usize>load<u32>(e, VALUE);
  const g = <usize>load<u32>(e, GRAD);
  const wd: f32 = mode == GC_UPDATE ? 0 : load<f32>(e, WEIGHT_DECAY);
  memory.fill(sums, 0, <usize>cols << 4);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    if (mode == GC_UPDATE) {
      ruleRow(rule, e, off, cols, PHASE_ADVANCE, 0, 0, 0, tmp);
      accumulateRow(tmp, cols, sums);
    } else {
      accumulateRow(g + off, cols, sums);
      if (wd != 0) accumulateRow(w + off, cols, weightSums);
    }
  }
  for (let c = 0; c < cols; c++) {
    const total = load<f64>(sums + (<usize>c << 3)) + <f64>wd * load<f64>(weightSums + (<usize>c << 3));
    const mean = total / <f64>rows;
    const h = <f32>mean;
    store<f32>(hi + (<usize>c << 2), h);
    store<f32>(lo + (<usize>c << 2), lowPart(mean, h));
  }
  for (let r = 0; r < rows; r++) ruleRow(rule, e, <usize>r * rowBytes, cols, finalPhase, hi, lo, ~0, tmp);
}

/** One SGD step (GC fused) over `count` tensors described at `table`; `scratch` fits the widest. */
export function sgdStep(table: usize, count: i32, scratch: usize): void {
  for (let k = 0; k < count; k++) stepTensor(RULE_SGD, table + <usize>k * OPTIMIZER_ENTRY_BYTES, scratch);
}

/** One Adam or AdamW step (GC fused) over `count` tensors described at `table`; `scratch` fits the widest. */
export function adamStep(table: usize, count: i32, scratch: usize): void {
  for (let k = 0; k < count; k++) stepTensor(RULE_ADAM, table + <usize>k * OPTIMIZER_ENTRY_BYTES, scratch);
}
