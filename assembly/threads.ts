// The entry of the SIMD + threads build (asconfig.json target "threads": imported shared memory).
// It exports every kernel of assembly/index.ts unchanged, plus `runShare`: thread t of T runs its
// share of a job described in memory (src/threads/ writes the job and starts the other threads).
// Work is split by units, or by elements for elementwise work (at multiples of 4, so every value
// goes through the same SIMD lane or scalar tail as in one thread): each share runs the kernel's
// own range form (centralizeUnits, stepTensor, unitStats, clipValues, scaleTensor,
// lookaheadValues), which makes each unit's sums in the single-thread order, so results are
// bit-identical to one thread. Tensors of a job never share memory, so a thread walks all of them
// and takes its share of each, with no synchronization until the job ends.
// The module has no data segments and no mutable globals in memory: instantiating it again over
// the same memory (every worker does) writes nothing.

export * from "./index";

import { centralizeUnits, columnBlocks, columnBlockSums, subtractColumnMeans } from "./centralize";
import { unitStats, STATS_SLOTS } from "./stats";
import { stepAlign, stepColumnRows, stepColumnSums, stepColumnSumsBytes, stepsColumns, stepSpan, stepTensor } from "./optim/gc";
import { OPTIMIZER_ENTRY_BYTES, OUTER } from "./optim/table";
import { CLIP_ENTRY_BYTES, clipValues, NORM_INF, NORM_L2, reduceTensor, scaleTensor } from "./clip";
import { LOOKAHEAD_ENTRY_BYTES, lookaheadValues } from "./lookahead";

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
const JOB_MANY = 2; //       table, count, scratch, stride, sums
const JOB_STATS = 3; //      ptr, outer, units, inner, u0, n, out
const JOB_STEP = 4; //       rule, table, count, scratch, stride, sums
const JOB_CLIP_NORM = 5; //  table, count, normType, partials
const JOB_CLIP_SCALE = 6; // table, count; float: the f32 factor
const JOB_CLIP_VALUE = 7; // table, count; float: the f32 bound
const JOB_LOOKAHEAD = 8; //  table, count; float: the f32 alpha
const JOB_MANY_SUMS = 9; //  table, count, sums
const JOB_STEP_SUMS = 10; // rule, table, count, scratch, stride, sums

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

/** Units of a share start at multiples of this: 4 for column units (each value keeps its SIMD lane or scalar tail), else 1. */
// @ts-ignore: decorator
@inline function unitAlign(inner: i32): i32 {
  return inner == 1 ? 4 : 1;
}

/** Whether a [outer, units, inner] view has column units (split by rows, after a JOB_*_SUMS job). */
// @ts-ignore: decorator
@inline function isColumns(outer: i32, units: i32, inner: i32): bool {
  return inner == 1 && outer > 0 && units > 0;
}

/** Thread t's share of a job of `JOB_*` kind at `job` (T threads run it, each with its own t). */
export function runShare(job: usize, t: i32, T: i32): void {
  const kind = load<i32>(job, JOB_KIND);
  if (kind == JOB_VIEW) {
    const units = arg(job, 2);
    const align = unitAlign(arg(job, 3));
    const a = shareStart(units, t, T, align);
    const b = shareEnd(units, t, T, align);
    centralizeUnits(<usize>arg(job, 0), arg(job, 1), units, arg(job, 3), a, b, <usize>arg(job, 4) + <usize>t * <usize>arg(job, 5));
  } else if (kind == JOB_MANY) {
    manyShare(<usize>arg(job, 0), arg(job, 1), <usize>arg(job, 2) + <usize>t * <usize>arg(job, 3), <usize>arg(job, 4), t, T);
  } else if (kind == JOB_MANY_SUMS) {
    manySumsShare(<usize>arg(job, 0), arg(job, 1), <usize>arg(job, 2), t, T);
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
    let sums = <usize>arg(job, 5);
    for (let k = 0; k < count; k++) {
      const e = table + <usize>k * OPTIMIZER_ENTRY_BYTES;
      if (stepsColumns(e)) {
        const rows = load<i32>(e, OUTER);
        stepColumnRows(rule, e, scratch, shareStart(rows, t, T, 1), shareEnd(rows, t, T, 1), sums);
        sums += stepColumnSumsBytes(e);
      } else stepShare(rule, e, scratch, t, T);
    }
  } else if (kind == JOB_STEP_SUMS) {
    const rule = arg(job, 0);
    const table = <usize>arg(job, 1);
    const count = arg(job, 2);
    const scratch = <usize>arg(job, 3) + <usize>t * <usize>arg(job, 4);
    let sums = <usize>arg(job, 5);
    for (let k = 0; k < count; k++) {
      const e = table + <usize>k * OPTIMIZER_ENTRY_BYTES;
      if (!stepsColumns(e)) continue;
      const blocks = columnBlocks(load<i32>(e, OUTER));
      stepColumnSums(rule, e, scratch, shareStart(blocks, t, T, 1), shareEnd(blocks, t, T, 1), sums);
      sums += stepColumnSumsBytes(e);
    }
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
      else clipValues(ptr, b - a, x);
    }
  } else if (kind == JOB_LOOKAHEAD) {
    lookaheadShare(<usize>arg(job, 0), arg(job, 1), <f32>load<f64>(job, JOB_FLOAT), t, T);
  }
}

/**
 * centralizeMany: this thread's share of every tensor of the table: for column units its rows
 * (their means from the block sums at `sums`, which JOB_MANY_SUMS wrote), else its units.
 */
function manyShare(table: usize, count: i32, scratch: usize, sums: usize, t: i32, T: i32): void {
  for (let k = 0; k < count; k++) {
    const e = table + (<usize>k << 4);
    const ptr = <usize>load<u32>(e);
    const outer = load<i32>(e, 4);
    const units = load<i32>(e, 8);
    const inner = load<i32>(e, 12);
    if (isColumns(outer, units, inner)) {
      subtractColumnMeans(ptr, outer, units, sums, shareStart(outer, t, T, 1), shareEnd(outer, t, T, 1), scratch);
      sums += columnSumsBytes(outer, units);
      continue;
    }
    const align = unitAlign(inner);
    centralizeUnits(ptr, outer, units, inner, shareStart(units, t, T, align), shareEnd(units, t, T, align), scratch);
  }
}

/** Bytes of the block sums of a [rows, cols] matrix's column units: a float64 per column and block. */
// @ts-ignore: decorator
@inline function columnSumsBytes(rows: i32, cols: i32): usize {
  return <usize>columnBlocks(rows) * (<usize>cols << 3);
}

/** The first job of a centralizeMany with column units: this thread's blocks of their column sums. */
function manySumsShare(table: usize, count: i32, sums: usize, t: i32, T: i32): void {
  for (let k = 0; k < count; k++) {
    const e = table + (<usize>k << 4);
    const outer = load<i32>(e, 4);
    const units = load<i32>(e, 8);
    if (!isColumns(outer, units, load<i32>(e, 12))) continue;
    const blocks = columnBlocks(outer);
    columnBlockSums(<usize>load<u32>(e), outer, units, shareStart(blocks, t, T, 1), shareEnd(blocks, t, T, 1), sums);
    sums += columnSumsBytes(outer, units);
  }
}

/** Bytes of the block sums JOB_MANY_SUMS writes for one [outer, units, inner] view (0 unless its units are columns). */
export function viewSumsBytes(outer: i32, units: i32, inner: i32): usize {
  return isColumns(outer, units, inner) ? columnSumsBytes(outer, units) : 0;
}

/** Bytes of the block sums JOB_MANY_SUMS writes for a centralizeMany table (0: it has no column units). */
export function manySumsBytes(table: usize, count: i32): usize {
  let bytes: usize = 0;
  for (let k = 0; k < count; k++) {
    const e = table + (<usize>k << 4);
    bytes += viewSumsBytes(load<i32>(e, 4), load<i32>(e, 8), load<i32>(e, 12));
  }
  return bytes;
}

/** Bytes of the block sums JOB_STEP_SUMS writes for an optimizer table (0: no column units with GC). */
export function stepSumsBytes(table: usize, count: i32): usize {
  let bytes: usize = 0;
  for (let k = 0; k < count; k++) bytes += stepColumnSumsBytes(table + <usize>k * OPTIMIZER_ENTRY_BYTES);
  return bytes;
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

/** lookaheadSync over this thread's share of every parameter. */
function lookaheadShare(table: usize, count: i32, alpha: f32, t: i32, T: i32): void {
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * LOOKAHEAD_ENTRY_BYTES;
    const n = load<i32>(e, 8);
    const a = shareStart(n, t, T, 4);
    const b = shareEnd(n, t, T, 4);
    if (b > a) lookaheadValues(<usize>load<u32>(e) + (<usize>a << 2), <usize>load<u32>(e, 4) + (<usize>a << 2), b - a, alpha);
  }
}

/** stepTensor over this thread's share of the entry's stepSpan pieces (units, or with GC off values or rows). */
function stepShare(rule: i32, e: usize, scratch: usize, t: i32, T: i32): void {
  const n = stepSpan(e);
  const align = stepAlign(e);
  stepTensor(rule, e, scratch, shareStart(n, t, T, align), shareEnd(n, t, T, align));
}
