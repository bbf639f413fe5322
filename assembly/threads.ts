// The entry of the SIMD + threads build (asconfig.json target "threads": imported shared memory).
// It exports every kernel of assembly/index.ts unchanged, plus `runShare`: thread t of T runs its
// share of a job described in memory (src/threads/ writes the job and starts the other threads).
// Work is split by units, or by elements for elementwise work (at multiples of 4, so every value
// goes through the same SIMD lane or scalar tail as in one thread): each unit's sums are made by
// one thread in the single-thread order, so results are bit-identical to one thread. Tensors of a
// job never share memory, so a thread walks all of them and takes its share of each, with no
// synchronization until the job ends.
// The module has no data segments and no mutable globals in memory: instantiating it again over
// the same memory (every worker does) writes nothing.

export * from "./index";

import { accumulateRow, COLUMN_CHUNK, centralizeColumnChunk, centralizeRows, lowPart, subtractRow, sumRow, sumToMean, UNIT_CHUNK, viewRow } from "./centralize";
import { unitStats, STATS_SLOTS } from "./stats";
import { addCenteredRow, directionRow, RULE_SGD, ruleRow, storeSplat } from "./optim/gc";
import { CENTER_BUFFER } from "./optim/sgd";
import {
  FLAGS, GC_GRADIENT, GC_MODE, GC_UPDATE, INNER, OPTIMIZER_ENTRY_BYTES, OUTER, PHASE_ADVANCE, PHASE_ADVANCE_COLUMNS,
  PHASE_APPLY, PHASE_STEP, STATE_A, UNITS, VALUE,
} from "./optim/table";
import { CLIP_ENTRY_BYTES, NORM_INF, NORM_L2, reduceTensor, scaleTensor } from "./clip";
import { LOOKAHEAD_ENTRY_BYTES } from "./lookahead";

/** 1: this is the threads build (its memory is imported and shared). */
export function isThreadsBuild(): bool {
  return true;
}

// A job: i32 kind, i32 arguments, one f64 argument (src/threads/dispatch.ts writes the same offsets).
const JOB_KIND = 0;
const JOB_ARGS = 4; // 8 × i32
const JOB_FLOAT = 40; // f64
const JOB_BYTES = 48;

const JOB_VIEW = 1; //       ptr, outer, units, inner, scratch, stride
const JOB_MANY = 2; //       table, count, scratch, stride
const JOB_STATS = 3; //      ptr, outer, units, inner, u0, n, out
const JOB_STEP = 4; //       rule, table, count, scratch, stride
const JOB_CLIP_NORM = 5; //  table, count, normType, partials
const JOB_CLIP_SCALE = 6; // table, count; float: the f32 factor
const JOB_CLIP_VALUE = 7; // table, count; float: the f32 bound
const JOB_LOOKAHEAD = 8; //  table, count; float: the f32 alpha

// @ts-ignore: decorator
@inline function arg(job: usize, k: i32): i32 {
  return load<i32>(job + JOB_ARGS + (<usize>k << 2));
}

/** First index of thread t's share of [0, n) split into T parts, rounded down to a multiple of `align`. */
// @ts-ignore: decorator
@inline function shareStart(n: i32, t: i32, T: i32, align: i32): i32 {
  if (t >= T) return n;
  const s = <i32>((<i64>n * <i64>t) / <i64>T);
  return s - s % align;
}

/** One past the last index of thread t's share (see shareStart). */
// @ts-ignore: decorator
@inline function shareEnd(n: i32, t: i32, T: i32, align: i32): i32 {
  return t + 1 >= T ? n : shareStart(n, t + 1, T, align);
}

/**
 * Units of a share start at multiples of this: for column units (inner = 1) 16 columns, 64 bytes,
 * so two threads write the same cache line of a row only where the tensor is not 64-byte aligned;
 * any unit otherwise. (Any multiple of 4 keeps every value in the same SIMD lane or scalar tail.)
 */
// @ts-ignore: decorator
@inline function unitAlign(inner: i32): i32 {
  return inner == 1 ? 16 : 1;
}

/** Thread t's share of a job of `JOB_*` kind at `job` (T threads run it, each with its own t). */
export function runShare(job: usize, t: i32, T: i32): void {
  const kind = load<i32>(job, JOB_KIND);
  if (kind == JOB_VIEW) {
    const units = arg(job, 2);
    const align = unitAlign(arg(job, 3));
    const a = shareStart(units, t, T, align);
    const b = shareEnd(units, t, T, align);
    centralizeViewRange(<usize>arg(job, 0), arg(job, 1), units, arg(job, 3), a, b, <usize>arg(job, 4) + <usize>t * <usize>arg(job, 5));
  } else if (kind == JOB_MANY) {
    manyShare(<usize>arg(job, 0), arg(job, 1), <usize>arg(job, 2) + <usize>t * <usize>arg(job, 3), t, T);
  } else if (kind == JOB_STATS) {
    const n = arg(job, 5);
    const a = shareStart(n, t, T, 1);
    const b = shareEnd(n, t, T, 1);
    if (b > a) unitStats(<usize>arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4) + a, b - a, <usize>arg(job, 6) + (<usize>a * STATS_SLOTS << 3));
  } else if (kind == JOB_STEP) {
    const rule = arg(job, 0);
    const table = <usize>arg(job, 1);
    const count = arg(job, 2);
    const scratch = <usize>arg(job, 3) + <usize>t * <usize>arg(job, 4);
    for (let k = 0; k < count; k++) stepTensorShare(rule, table + <usize>k * OPTIMIZER_ENTRY_BYTES, scratch, t, T);
  } else if (kind == JOB_CLIP_NORM) {
    clipNormShare(<usize>arg(job, 0), arg(job, 1), arg(job, 2), <usize>arg(job, 3), t, T);
  } else if (kind == JOB_CLIP_SCALE || kind == JOB_CLIP_VALUE) {
    const table = <usize>arg(job, 0);
    const count = arg(job, 1);
    const x = <f32>load<f64>(job, JOB_FLOAT);
    for (let k = 0; k < count; k++) {
      const e = table + <usize>k * CLIP_ENTRY_BYTES;
      const n = load<i32>(e, 4);
      const a = shareStart(n, t, T, 4);
      const b = shareEnd(n, t, T, 4);
      const ptr = <usize>load<u32>(e) + (<usize>a << 2);
      if (b <= a) continue;
      if (kind == JOB_CLIP_SCALE) scaleTensor(ptr, b - a, x);
      else clipValueRange(ptr, b - a, x);
    }
  } else if (kind == JOB_LOOKAHEAD) {
    lookaheadShare(<usize>arg(job, 0), arg(job, 1), <f32>load<f64>(job, JOB_FLOAT), t, T);
  }
}

/** centralizeView restricted to units [u0, u1): the same operations on those units as one thread does. */
function centralizeViewRange(ptr: usize, outer: i32, units: i32, inner: i32, u0: i32, u1: i32, scratch: usize): void {
  if (outer <= 0 || units <= 0 || inner <= 0 || u1 <= u0) return;
  if (inner == 1) {
    const rowBytes = <usize>units << 2;
    for (let c0 = u0; c0 < u1; ) {
      const width = min(COLUMN_CHUNK, u1 - c0);
      centralizeColumnChunk(ptr + (<usize>c0 << 2), outer, width, rowBytes, scratch);
      c0 += width;
    }
  } else if (outer == 1) centralizeRows(ptr + <usize>u0 * (<usize>inner << 2), u1 - u0, inner);
  else centralizeUnitRange(ptr, outer, units, inner, u0, u1, scratch);
}

/** The general view's GC (centralizeUnitRows) over units [u0, u1). */
function centralizeUnitRange(ptr: usize, outer: i32, units: i32, inner: i32, u0: i32, u1: i32, scratch: usize): void {
  const rowBytes = <usize>inner << 2;
  const count = <f64>outer * <f64>inner;
  for (let c0 = u0; c0 < u1; ) {
    const width = min(UNIT_CHUNK, u1 - c0);
    memory.fill(scratch, 0, <usize>width << 3);
    for (let o = 0; o < outer; o++) {
      for (let u = 0; u < width; u++) {
        const s = scratch + (<usize>u << 3);
        store<f64>(s, load<f64>(s) + sumRow(viewRow(ptr, o, units, c0 + u, rowBytes), inner));
      }
    }
    for (let u = 0; u < width; u++) sumToMean(scratch + (<usize>u << 3), count);
    for (let o = 0; o < outer; o++) {
      for (let u = 0; u < width; u++) {
        const s = scratch + (<usize>u << 3);
        subtractRow(viewRow(ptr, o, units, c0 + u, rowBytes), inner, load<f32>(s), load<f32>(s, 4));
      }
    }
    c0 += width;
  }
}

/** centralizeMany: this thread's units of every tensor of the table. */
function manyShare(table: usize, count: i32, scratch: usize, t: i32, T: i32): void {
  for (let k = 0; k < count; k++) {
    const e = table + (<usize>k << 4);
    const units = load<i32>(e, 8);
    const inner = load<i32>(e, 12);
    const align = unitAlign(inner);
    centralizeViewRange(<usize>load<u32>(e), load<i32>(e, 4), units, inner, shareStart(units, t, T, align), shareEnd(units, t, T, align), scratch);
  }
}

/**
 * clipGradNorm's reduction: partials[k] = reduceTensor of tensor k for the tensors this thread
 * owns (a tensor is reduced whole by one thread, as in one thread; owners balance the values).
 * The caller combines the partials in tensor order (clipNormTotal), as one thread does.
 */
function clipNormShare(table: usize, count: i32, normType: i32, partials: usize, t: i32, T: i32): void {
  let total: f64 = 0;
  for (let k = 0; k < count; k++) total += <f64>load<i32>(table + <usize>k * CLIP_ENTRY_BYTES, 4);
  let before: f64 = 0;
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * CLIP_ENTRY_BYTES;
    const n = load<i32>(e, 4);
    const middle = before + <f64>n / 2;
    before += <f64>n;
    const owner = total > 0 ? min(T - 1, <i32>Math.floor(middle * <f64>T / total)) : k % T;
    if (owner == t) store<f64>(partials + (<usize>k << 3), reduceTensor(<usize>load<u32>(e), n, normType));
  }
}

/** The total norm from clipNormShare's partials, combined in tensor order as clipGradNorm does. */
export function clipNormTotal(partials: usize, count: i32, normType: i32): f64 {
  let total: f64 = 0;
  for (let k = 0; k < count; k++) {
    const part = load<f64>(partials + (<usize>k << 3));
    total = normType == NORM_INF ? max(total, part) : total + part;
  }
  return normType == NORM_L2 ? sqrt(total) : total;
}

/** clipGradValue over n values. */
function clipValueRange(ptr: usize, n: i32, c: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const hi = f32x4.splat(c);
    const lo = f32x4.splat(-c);
    for (; i + 4 <= n; i += 4) {
      const p = ptr + (<usize>i << 2);
      v128.store(p, f32x4.min(f32x4.max(v128.load(p), lo), hi));
    }
  }
  for (; i < n; i++) {
    const p = ptr + (<usize>i << 2);
    store<f32>(p, min<f32>(max<f32>(load<f32>(p), -c), c));
  }
}

/** lookaheadSync over this thread's share of every parameter. */
function lookaheadShare(table: usize, count: i32, alpha: f32, t: i32, T: i32): void {
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * LOOKAHEAD_ENTRY_BYTES;
    const n = load<i32>(e, 8);
    const a = shareStart(n, t, T, 4);
    const b = shareEnd(n, t, T, 4);
    const fast = <usize>load<u32>(e) + (<usize>a << 2);
    const slow = <usize>load<u32>(e, 4) + (<usize>a << 2);
    const m = b - a;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const va = f32x4.splat(alpha);
      for (; i + 4 <= m; i += 4) {
        const o = <usize>i << 2;
        const s = v128.load(slow + o);
        const next = f32x4.add(s, f32x4.mul(va, f32x4.sub(v128.load(fast + o), s)));
        v128.store(slow + o, next);
        v128.store(fast + o, next);
      }
    }
    for (; i < m; i++) {
      const o = <usize>i << 2;
      const s = load<f32>(slow + o);
      const next = s + alpha * (load<f32>(fast + o) - s);
      store<f32>(slow + o, next);
      store<f32>(fast + o, next);
    }
  }
}

/**
 * stepTensor (assembly/optim/gc.ts) restricted to this thread's units: rows [u0, u1) for row
 * units, columns [u0, u1) (at multiples of 16) for column units, units [u0, u1) of the general
 * view; with GC off (a [1, 1, size] view) the elements at multiples of 4, or the rows.
 */
function stepTensorShare(rule: i32, e: usize, scratch: usize, t: i32, T: i32): void {
  const outer = load<i32>(e, OUTER);
  const units = load<i32>(e, UNITS);
  const inner = load<i32>(e, INNER);
  if (outer == 0 || units == 0 || inner == 0) return;
  const unitsAreColumns = inner == 1;
  const rows = unitsAreColumns ? outer : outer * units;
  const cols = unitsAreColumns ? units : inner;
  const flags = load<i32>(e, FLAGS);
  const mode = rule == RULE_SGD && (flags & GC_MODE) == GC_UPDATE ? GC_GRADIENT : flags & GC_MODE;
  const rowBytes = <usize>cols << 2;
  const splat = scratch;
  const tmp = scratch + 32;
  const sums = tmp + ((rowBytes + 15) & ~15);
  if (mode != GC_GRADIENT && mode != GC_UPDATE) {
    memory.fill(splat, 0, 32);
    if (rows == 1) {
      const a = shareStart(cols, t, T, 4);
      const b = shareEnd(cols, t, T, 4);
      if (b > a) ruleRow(rule, e, <usize>a << 2, b - a, PHASE_STEP, splat, splat + 16, 0, tmp);
    } else {
      const b = shareEnd(rows, t, T, 1);
      for (let r = shareStart(rows, t, T, 1); r < b; r++) ruleRow(rule, e, <usize>r * rowBytes, cols, PHASE_STEP, splat, splat + 16, 0, tmp);
    }
    return;
  }
  const u0 = shareStart(units, t, T, unitAlign(inner));
  const u1 = shareEnd(units, t, T, unitAlign(inner));
  if (u1 <= u0) return;
  if (rule == RULE_SGD && (flags & CENTER_BUFFER) != 0) {
    centralizeViewRange(<usize>load<u32>(e, STATE_A), outer, units, inner, u0, u1, sums);
  }
  if (unitsAreColumns) stepColumnRange(rule, e, mode, rows, cols, u0, u1, tmp, sums);
  else if (outer == 1) stepRowRange(rule, e, mode, u0, u1, cols, splat, tmp);
  else stepUnitRange(rule, e, mode, outer, units, inner, u0, u1, splat, tmp, sums);
}

/** stepRowUnits over rows [r0, r1). */
function stepRowRange(rule: i32, e: usize, mode: i32, r0: i32, r1: i32, cols: i32, splat: usize, tmp: usize): void {
  const rowBytes = <usize>cols << 2;
  const w = <usize>load<u32>(e, VALUE);
  for (let r = r0; r < r1; r++) {
    const off = <usize>r * rowBytes;
    let total: f64;
    if (mode == GC_UPDATE) {
      ruleRow(rule, e, off, cols, PHASE_ADVANCE, 0, 0, 0, tmp);
      total = sumRow(tmp, cols);
    } else total = sumRow(directionRow(e, off, cols, tmp), cols);
    const mean = total / <f64>cols;
    const hi = <f32>mean;
    const lo = lowPart(mean, hi);
    if (mode == GC_UPDATE) addCenteredRow(w + off, tmp, cols, hi, lo);
    else {
      storeSplat(splat, hi, lo);
      ruleRow(rule, e, off, cols, PHASE_STEP, splat, splat + 16, 0, tmp);
    }
  }
}

/** stepColumnUnits over columns [c0, c1) (c0 a multiple of 16, see unitAlign). */
function stepColumnRange(rule: i32, e: usize, mode: i32, rows: i32, cols: i32, c0: i32, c1: i32, tmp: usize, sums: usize): void {
  const rowBytes = <usize>cols << 2;
  const width = c1 - c0;
  const first = <usize>c0 << 2;
  const hi = sums + (<usize>width << 3);
  const lo = hi + (<usize>width << 2);
  memory.fill(sums, 0, <usize>width << 3);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes + first;
    if (mode == GC_UPDATE) {
      ruleRow(rule, e, off, width, PHASE_ADVANCE_COLUMNS, 0, 0, 0, tmp);
      accumulateRow(tmp, width, sums);
    } else accumulateRow(directionRow(e, off, width, tmp), width, sums);
  }
  for (let c = 0; c < width; c++) {
    const mean = load<f64>(sums + (<usize>c << 3)) / <f64>rows;
    const h = <f32>mean;
    store<f32>(hi + (<usize>c << 2), h);
    store<f32>(lo + (<usize>c << 2), lowPart(mean, h));
  }
  const finalPhase = mode == GC_UPDATE ? PHASE_APPLY : PHASE_STEP;
  for (let r = 0; r < rows; r++) ruleRow(rule, e, <usize>r * rowBytes + first, width, finalPhase, hi, lo, ~0, tmp);
}

/** stepUnitRows over units [u0, u1). */
function stepUnitRange(rule: i32, e: usize, mode: i32, outer: i32, units: i32, inner: i32, u0: i32, u1: i32, splat: usize, tmp: usize, sums: usize): void {
  const rowBytes = <usize>inner << 2;
  const count = <f64>outer * <f64>inner;
  const finalPhase = mode == GC_UPDATE ? PHASE_APPLY : PHASE_STEP;
  for (let c0 = u0; c0 < u1; ) {
    const width = min(UNIT_CHUNK, u1 - c0);
    memory.fill(sums, 0, <usize>width << 3);
    for (let o = 0; o < outer; o++) {
      for (let u = 0; u < width; u++) {
        const off = viewRow(0, o, units, c0 + u, rowBytes);
        let total: f64;
        if (mode == GC_UPDATE) {
          ruleRow(rule, e, off, inner, PHASE_ADVANCE_COLUMNS, 0, 0, 0, tmp);
          total = sumRow(tmp, inner);
        } else total = sumRow(directionRow(e, off, inner, tmp), inner);
        const s = sums + (<usize>u << 3);
        store<f64>(s, load<f64>(s) + total);
      }
    }
    for (let u = 0; u < width; u++) sumToMean(sums + (<usize>u << 3), count);
    for (let o = 0; o < outer; o++) {
      for (let u = 0; u < width; u++) {
        const s = sums + (<usize>u << 3);
        storeSplat(splat, load<f32>(s), load<f32>(s, 4));
        ruleRow(rule, e, viewRow(0, o, units, c0 + u, rowBytes), inner, finalPhase, splat, splat + 16, 0, tmp);
      }
    }
    c0 += width;
  }
}
