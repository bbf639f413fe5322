// SGD with momentum (torch.optim.SGD): the element update of the fused kernel (see gc.ts).
import { FLAGS, GRAD, STATE_A, VALUE, WEIGHT_DECAY } from "./table";
import { centeredV } from "./element";

// f32 fields
const NEG_LR = 36; //   −lr
const MOMENTUM = 40; // μ
const KEEP = 44; //     1 − dampening
// flags
const HAS_MOMENTUM = 8;
const NESTEROV = 16;
const FIRST_STEP = 32; // the momentum buffer starts as d
/** gc "update": center the momentum buffer over the units before the step (see gc.ts). */
export const CENTER_BUFFER = 128;

/**
 * sgdRow's common step after the first for column units (out-last, each lane its column's hi and
 * lo) over the row's vectors; returns the values done. A function of its own: in sgdRow's body
 * this loop made V8 compile the row loop 1.11–1.14× slower.
 */
function sgdColumnsStep(e: usize, off: usize, n: i32, hi: usize, lo: usize): i32 {
  const w = <usize>load<u32>(e, VALUE) + off;
  const g = <usize>load<u32>(e, GRAD) + off;
  const buf = <usize>load<u32>(e, STATE_A) + off;
  const wd = load<f32>(e, WEIGHT_DECAY);
  const l2 = wd != 0;
  const nesterov = (load<i32>(e, FLAGS) & NESTEROV) != 0;
  const vwd = f32x4.splat(wd);
  const vmu = f32x4.splat(load<f32>(e, MOMENTUM));
  const vkeep = f32x4.splat(load<f32>(e, KEEP));
  const vnegLr = f32x4.splat(load<f32>(e, NEG_LR));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o);
    const d = centeredV(v128.load(g + o), wv, vwd, l2, v128.load(hi + o), v128.load(lo + o));
    const b = f32x4.add(f32x4.mul(vmu, v128.load(buf + o)), f32x4.mul(vkeep, d));
    v128.store(buf + o, b);
    const s = nesterov ? f32x4.add(d, f32x4.mul(vmu, b)) : b;
    v128.store(w + o, f32x4.add(wv, f32x4.mul(vnegLr, s)));
  }
  return i;
}

/**
 * SGD over one row of n values (torch.optim.SGD), the direction centered by (hi, lo):
 *   d = (fl(g + wd·w) − hi) − lo;  buf = d on the first step, else μ·buf + (1 − dampening)·d;
 *   s = nesterov ? d + μ·buf : buf (s = d without momentum);  w ← w − lr·s.
 * hi/lo are read at (lane offset & mask): mask 0 reads one splat, mask ~0 one value per column.
 * SGD runs every gc mode as PHASE_STEP (gc "update" too: see gc.ts).
 * `rows` rows `stride` bytes apart run as that many calls would (gc.ts ruleRow).
 */
export function sgdRow(e: usize, off: usize, n: i32, hi: usize, lo: usize, mask: usize, rows: i32, stride: usize): void {
  const w0 = <usize>load<u32>(e, VALUE) + off;
  const g0 = <usize>load<u32>(e, GRAD) + off;
  const buf0 = <usize>load<u32>(e, STATE_A) + off;
  const flags = load<i32>(e, FLAGS);
  const wd = load<f32>(e, WEIGHT_DECAY);
  const negLr = load<f32>(e, NEG_LR);
  const mu = load<f32>(e, MOMENTUM);
  const keep = load<f32>(e, KEEP);
  const l2 = wd != 0;
  const momentum = (flags & HAS_MOMENTUM) != 0;
  const nesterov = (flags & NESTEROV) != 0;
  const first = (flags & FIRST_STEP) != 0;
  for (let row = 0; row < rows; row++) {
    const rowOff = <usize>row * stride;
    const w = w0 + rowOff, g = g0 + rowOff, buf = buf0 + rowOff;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const vwd = f32x4.splat(wd);
      const vmu = f32x4.splat(mu);
      const vkeep = f32x4.splat(keep);
      const vnegLr = f32x4.splat(negLr);
      if (momentum && !first && mask == 0) {
        // The common step after the first (element.ts centeredV): hi and lo in registers, no
        // per-vector test of momentum or the first step.
        const vh = v128.load(hi);
        const vl = v128.load(lo);
        for (; i + 4 <= n; i += 4) {
          const o = <usize>i << 2;
          const wv = v128.load(w + o);
          const d = centeredV(v128.load(g + o), wv, vwd, l2, vh, vl);
          const b = f32x4.add(f32x4.mul(vmu, v128.load(buf + o)), f32x4.mul(vkeep, d));
          v128.store(buf + o, b);
          const s = nesterov ? f32x4.add(d, f32x4.mul(vmu, b)) : b;
          v128.store(w + o, f32x4.add(wv, f32x4.mul(vnegLr, s)));
        }
      } else if (momentum && !first) i = sgdColumnsStep(e, off + rowOff, n, hi, lo);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const c = o & mask;
        const wv = v128.load(w + o);
        let d = v128.load(g + o);
        if (l2) d = f32x4.add(d, f32x4.mul(vwd, wv));
        d = f32x4.sub(f32x4.sub(d, v128.load(hi + c)), v128.load(lo + c));
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
      let d = load<f32>(g + o);
      if (l2) d = d + wd * wv;
      d = (d - load<f32>(hi + c)) - load<f32>(lo + c);
      let s = d;
      if (momentum) {
        const b = first ? d : mu * load<f32>(buf + o) + keep * d;
        store<f32>(buf + o, b);
        s = nesterov ? d + mu * b : b;
      }
      store<f32>(w + o, wv + negLr * s);
    }
  }
}
