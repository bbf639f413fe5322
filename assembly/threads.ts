// The entry of the SIMD + threads build (asconfig.json target "threads": imported shared memory).
// It exports every kernel of assembly/index.ts unchanged, plus `runShare`: one thread's part of
// a job described in memory (src/threads/ writes the job and wakes the other threads).
// A job is a list of tensors, each cut into pieces (units; rows, columns or blocks of rows for
// column units; values for elementwise work, at multiples of 4 so every value goes through the
// same SIMD lane or scalar tail as in one thread), the pieces into chunks of about CHUNK_VALUES
// values. The tensors are claimed in order, each one's chunks from its two ends: even threads
// take the next chunk from the front, odd threads from the back, until none is left (claimEnd).
// So with two threads each streams through its own end of every tensor, and a slower core (or
// one busy elsewhere) simply takes fewer chunks. Each chunk runs the kernel's own
// range form (centralizeUnits, stepTensor, unitStats, clipValues, scaleTensor, lookaheadValues),
// which makes each unit's sums in the single-thread order: results are bit-identical to one
// thread whichever thread runs which chunk.
// Column units (out-last) need every row before any mean: a table job runs the other tensors
// first, then the column tensors in groups of about GROUP_VALUES values (small enough that the
// group is still in cache for its second pass), each group in three segments: block sums of its
// rows, the means of its columns, then its rows. Claimed from both ends in the sums and again in
// the rows, each thread mostly subtracts the rows it summed, from its own cache; a segment starts
// once every chunk before it is done.
// The module has no data segments and no mutable globals in memory (its globals are each
// instance's own): instantiating it again over the same memory (every worker does) writes nothing.

export * from "./index";

import { centralizeUnits, COLUMN_BLOCK_ROWS, columnBlocks, columnBlockSums, columnMeans, subtractColumnMeans } from "./centralize";
import { unitStats, STATS_SLOTS } from "./stats";
import {
  stepAlign, stepColumnMeans, stepColumnRows, stepColumnSums, stepColumnSumsBytes, stepsColumns, stepSpan, stepTensor,
} from "./optim/gc";
import { OPTIMIZER_ENTRY_BYTES, OUTER, UNITS } from "./optim/table";
import { CLIP_ENTRY_BYTES, clipValues, NORM_INF, NORM_L2, reduceTensor, scaleTensor } from "./clip";
import { LOOKAHEAD_ENTRY_BYTES, lookaheadValues } from "./lookahead";

/** 1: this is the threads build (its memory is imported and shared). */
export function isThreadsBuild(): bool {
  return true;
}

// A job: i32 kind, i32 arguments, counters, one f64 argument (src/threads/dispatch.ts writes the
// same offsets and zeroes the counters).
const JOB_KIND = 0;
const JOB_ARGS = 4; // 8 × i32
const JOB_BLOCKS = 28; // i32 (table jobs, args[6]): 1 when thread 0 may block in a wait (not a browser's main thread)
const JOB_DONE = 32; // i32: chunks done (table jobs)
const JOB_FLOAT = 40; // f64
const JOB_SLEEPERS = 44; // i32: threads asleep in waitDone (table jobs; the f64 argument is unused by them)
const JOB_ENDS = 48; // i64: the item (a tensor, or a column tensor in a segment) being claimed and the chunks claimed from each end (claimEnd)
const JOB_PATIENCE = 56; // i32: milliseconds a thread waits in waitDone without a chunk done before it gives up (src/threads/pool.ts writes it)
const JOB_STALLED = 60; // i32: set to 1 by a thread that gave up in waitDone (src/threads/pool.ts reads it)

// Table jobs: args table, count, scratch, stride (per-thread scratch), sums, rule, blocks.
const JOB_MANY = 2; //          centralizeMany (16-byte entries ptr, outer, units, inner)
const JOB_STEP = 4; //          an optimizer step (OPTIMIZER_ENTRY_BYTES entries)
const JOB_STATS = 3; //         ptr, outer, units, inner, u0, n, out (one tensor)
const JOB_CLIP_NORM = 5; //     table, count, normType, partials
const JOB_CLIP_SCALE = 6; //    table, count; float: the f32 factor
const JOB_CLIP_VALUE = 7; //    table, count; float: the f32 bound
const JOB_LOOKAHEAD = 8; //     table, count; float: the f32 alpha

// The segments of a table job (see above).
const SEGMENT_OTHERS = 0;
const SEGMENT_SUMS = 1;
const SEGMENT_MEANS = 2;
const SEGMENT_ROWS = 3;

/** Values of column tensors a group gathers (at least one tensor): 1M values, 4 MB. */
const GROUP_VALUES = 1 << 20;

/** Spins of a thread waiting for the chunks of earlier segments before it sleeps (where it may block). */
const SPINS_BEFORE_SLEEP = 1 << 16;
/** Its sleeps, in nanoseconds: short, so a missed wake-up costs little. */
const SLEEP_NS: i64 = 200_000;
/** Spins between two looks at the clock of a thread that may not block (one look per sleep otherwise). */
const SPINS_PER_CLOCK = 1 << 10;

/** Milliseconds since some fixed time (performance.now(): src/threads/start.ts and the worker script import it). */
// @ts-ignore: decorator
@external("env", "now")
declare function now(): f64;

/** Values a chunk holds at least (pieces permitting): large enough that claiming it costs nothing. */
const CHUNK_VALUES = 32768;

// @ts-ignore: decorator
@inline function arg(job: usize, k: i32): i32 {
  return load<i32>(job + JOB_ARGS + (<usize>k << 2));
}

// The current tensor's plan (plan() sets them): its pieces, pieces per chunk, and bytes of the sums area it uses.
let planPieces: i32 = 0;
let planPer: i32 = 1;
let planSums: usize = 0;

/** Sets the plan: `pieces` pieces of `pieceValues` values, chunks starting at multiples of `align`. */
function setPlan(pieces: i32, pieceValues: f64, align: i32, sums: usize): void {
  planPieces = max(pieces, 0);
  const per = <i32>min(<f64>max(pieces, 1), Math.ceil(<f64>CHUNK_VALUES / max(pieceValues, 1)));
  planPer = max(align, (per + align - 1) / align * align);
  planSums = sums;
}

/** Chunks of the current plan. */
// @ts-ignore: decorator
@inline function planChunks(): i32 {
  return (planPieces + planPer - 1) / planPer;
}

/** Whether a job of `kind` is a table job (JOB_MANY, JOB_STEP: a table of tensors, its chunks counted done). */
// @ts-ignore: decorator
@inline function isTableJob(kind: i32): bool {
  return kind == JOB_MANY || kind == JOB_STEP;
}

// @ts-ignore: decorator
@inline function manyEntry(job: usize, k: i32): usize {
  return <usize>arg(job, 0) + (<usize>k << 4);
}

// @ts-ignore: decorator
@inline function stepEntry(job: usize, k: i32): usize {
  return <usize>arg(job, 0) + <usize>k * OPTIMIZER_ENTRY_BYTES;
}

/** Whether a [outer, units, inner] view has column units (three jobs: block sums, means, rows). */
// @ts-ignore: decorator
@inline function isColumns(outer: i32, units: i32, inner: i32): bool {
  return inner == 1 && outer > 0 && units > 0;
}

/** Bytes of a column-unit view's sums area: a float64 per column and block, then hi and lo per column. */
// @ts-ignore: decorator
@inline function columnSumsBytes(rows: i32, cols: i32): usize {
  return <usize>(columnBlocks(rows) + 1) * (<usize>cols << 3);
}

/** Bytes of the sums area of one [outer, units, inner] view of a centralizeMany (0 unless its units are columns). */
export function viewSumsBytes(outer: i32, units: i32, inner: i32): usize {
  return isColumns(outer, units, inner) ? columnSumsBytes(outer, units) : 0;
}

/** Bytes of the sums area of a centralizeMany table (0: no column units, one job does). */
export function manySumsBytes(table: usize, count: i32): usize {
  let bytes: usize = 0;
  for (let k = 0; k < count; k++) {
    const e = table + (<usize>k << 4);
    bytes += viewSumsBytes(load<i32>(e, 4), load<i32>(e, 8), load<i32>(e, 12));
  }
  return bytes;
}

/** Bytes of the sums area of an optimizer table (0: no column units with GC, one job does). */
export function stepSumsBytes(table: usize, count: i32): usize {
  let bytes: usize = 0;
  for (let k = 0; k < count; k++) bytes += stepColumnSumsBytes(table + <usize>k * OPTIMIZER_ENTRY_BYTES);
  return bytes;
}

/** Whether entry k of a table job has column units (the family's own test). */
function tableColumns(kind: i32, job: usize, k: i32): bool {
  if (kind == JOB_STEP) return stepsColumns(stepEntry(job, k));
  const e = manyEntry(job, k);
  return isColumns(load<i32>(e, 4), load<i32>(e, 8), load<i32>(e, 12));
}

/** Values of entry k of a table job. */
function tableValues(kind: i32, job: usize, k: i32): f64 {
  if (kind == JOB_STEP) return stepValues(stepEntry(job, k));
  const e = manyEntry(job, k);
  return <f64>load<i32>(e, 4) * <f64>load<i32>(e, 8) * <f64>load<i32>(e, 12);
}

/** One past the last tensor of the group of column tensors starting at `start` (GROUP_VALUES of them, at least one). */
function groupEnd(kind: i32, job: usize, start: i32, count: i32): i32 {
  let values: f64 = 0;
  let k = start;
  while (k < count && values < <f64>GROUP_VALUES) {
    if (tableColumns(kind, job, k)) values += tableValues(kind, job, k);
    k++;
  }
  return k;
}

/** Sets the plan of entry k of a table job in `segment` (column tensors in the group segments only, the others in SEGMENT_OTHERS only). */
function planTable(kind: i32, segment: i32, job: usize, k: i32): void {
  if (!tableColumns(kind, job, k)) {
    if (segment != SEGMENT_OTHERS) setPlan(0, 1, 1, 0);
    else if (kind == JOB_MANY) {
      const e = manyEntry(job, k);
      setPlan(load<i32>(e, 8), <f64>load<i32>(e, 4) * <f64>load<i32>(e, 12), 1, 0);
    } else {
      const e = stepEntry(job, k);
      const n = stepSpan(e);
      setPlan(n, n > 0 ? stepValues(e) / <f64>n : 1, stepAlign(e), 0);
    }
    return;
  }
  if (segment == SEGMENT_OTHERS) {
    setPlan(0, 1, 1, 0);
    return;
  }
  let rows: i32, cols: i32;
  if (kind == JOB_STEP) {
    const e = stepEntry(job, k);
    rows = load<i32>(e, OUTER);
    cols = load<i32>(e, UNITS);
  } else {
    const e = manyEntry(job, k);
    rows = load<i32>(e, 4);
    cols = load<i32>(e, 8);
  }
  const sums = columnSumsBytes(rows, cols);
  if (segment == SEGMENT_SUMS) setPlan(columnBlocks(rows), <f64>COLUMN_BLOCK_ROWS * <f64>cols, 1, sums);
  else if (segment == SEGMENT_MEANS) setPlan(cols, <f64>columnBlocks(rows), 1, sums);
  else setPlan(rows, <f64>cols, 1, sums);
}

/** Values of an optimizer entry's tensor ([outer, units, inner]). */
// @ts-ignore: decorator
@inline function stepValues(e: usize): f64 {
  return <f64>load<i32>(e, OUTER) * <f64>load<i32>(e, UNITS) * <f64>load<i32>(e, 80);
}

/** Pieces [a, b) of entry k of a table job in `segment`; `sums`: the entry's sums area, `scratch`: this thread's. */
function tableWork(kind: i32, segment: i32, job: usize, k: i32, a: i32, b: i32, scratch: usize, sums: usize): void {
  if (kind == JOB_STEP) {
    const e = stepEntry(job, k);
    const rule = arg(job, 5);
    if (segment == SEGMENT_OTHERS) stepTensor(rule, e, scratch, a, b);
    else if (segment == SEGMENT_SUMS) stepColumnSums(rule, e, scratch, a, b, sums);
    else if (segment == SEGMENT_MEANS) stepColumnMeans(e, scratch, a, b, sums);
    else stepColumnRows(rule, e, scratch, a, b, sums);
    return;
  }
  const e = manyEntry(job, k);
  const ptr = <usize>load<u32>(e);
  const outer = load<i32>(e, 4);
  const units = load<i32>(e, 8);
  if (segment == SEGMENT_OTHERS) {
    centralizeUnits(ptr, outer, units, load<i32>(e, 12), a, b, scratch);
    return;
  }
  const hi = sums + (<usize>columnBlocks(outer) * <usize>units << 3);
  const lo = hi + (<usize>units << 2);
  if (segment == SEGMENT_SUMS) columnBlockSums(ptr, outer, units, a, b, sums);
  else if (segment == SEGMENT_MEANS) columnMeans(sums, columnBlocks(outer), outer, units, a, b, scratch, hi, lo);
  else subtractColumnMeans(ptr, units, a, b, hi, lo);
}

/**
 * Waits until `chunks` chunks of the job are done: spins a little, then sleeps in short waits
 * where this thread may block (a spinning thread would take the core from a thread still working
 * on one of those chunks). After JOB_PATIENCE ms in which no chunk was done (a thread died or
 * hung holding one) it gives up: sets JOB_STALLED and traps, and src/threads/pool.ts reports it.
 */
function waitDone(job: usize, chunks: i32, mayBlock: bool): void {
  const patience = <f64>load<i32>(job + JOB_PATIENCE);
  let seen = -1;
  let deadline: f64 = 0;
  for (let spins = 0; ; ) {
    const done = atomic.load<i32>(job + JOB_DONE);
    if (done >= chunks) return;
    const sleeping = mayBlock && spins == SPINS_BEFORE_SLEEP;
    if (!sleeping) spins++;
    if (done != seen) {
      seen = done;
      deadline = now() + patience;
    } else if ((sleeping || (spins & (SPINS_PER_CLOCK - 1)) == 0) && now() >= deadline) {
      atomic.store<i32>(job + JOB_STALLED, 1);
      unreachable();
    }
    if (!sleeping) continue;
    atomic.add<i32>(job + JOB_SLEEPERS, 1);
    memory.atomic.wait32(job + JOB_DONE, done, SLEEP_NS);
    atomic.sub<i32>(job + JOB_SLEEPERS, 1);
  }
}

/** Counts a chunk done, and wakes the threads asleep in waitDone. */
function chunkDone(job: usize): void {
  atomic.add<i32>(job + JOB_DONE, 1);
  if (atomic.load<i32>(job + JOB_SLEEPERS) > 0) atomic.notify(job + JOB_DONE);
}

/** Whether entries [start, end) of a table job include column units. */
function hasColumns(kind: i32, job: usize, start: i32, end: i32): bool {
  for (let k = start; k < end; k++) if (tableColumns(kind, job, k)) return true;
  return false;
}

/**
 * Thread t's part of a table job (JOB_MANY, JOB_STEP): the other tensors' chunks, then each group
 * of column tensors in three segments; every tensor an item of claimEnd (from the back: `back`). Every chunk done is
 * counted in the job's done counter; a segment starts once every chunk before it is counted.
 */
function runTable(kind: i32, job: usize, t: i32, back: bool): void {
  const count = arg(job, 1);
  if (count <= 0) return;
  const scratch = <usize>arg(job, 2) + <usize>t * <usize>arg(job, 3);
  const mayBlock = t > 0 || load<i32>(job + JOB_BLOCKS) != 0;
  const first = runTensors(kind, job, count, back, scratch);
  // The column items: each column tensor in each segment of its group, numbered on from `first`
  // in the order every thread walks them (each item before had a chunk at least, so a number ≤ first).
  let item = first;
  let done = first; // the chunks of every item before the current one, and of the other tensors
  let groupSums = <usize>arg(job, 4);
  for (let start = 0; start < count; ) {
    const end = groupEnd(kind, job, start, count);
    if (!hasColumns(kind, job, start, end)) {
      start = end;
      continue;
    }
    let sums = groupSums;
    for (let segment = SEGMENT_SUMS; segment <= SEGMENT_ROWS; segment++) {
      if (segment != SEGMENT_SUMS) waitDone(job, done, mayBlock);
      sums = groupSums;
      for (let e = start; e < end; e++) {
        if (!tableColumns(kind, job, e)) continue;
        planTable(kind, segment, job, e);
        const n = planChunks();
        runChunks(kind, segment, job, e, ++item, n, back, scratch, sums);
        done += n;
        sums += planSums;
      }
    }
    groupSums = sums;
    start = end;
  }
}

/**
 * Runs the chunks of tensors 0 … count − 1 of a job (of a table job, those without column units:
 * planTable's SEGMENT_OTHERS), tensor k with chunks the job's item 1, 2, … in order; returns how
 * many chunks they had.
 */
function runTensors(kind: i32, job: usize, count: i32, back: bool, scratch: usize): i32 {
  const table = isTableJob(kind);
  let item = 0;
  let chunks = 0;
  for (let k = 0; k < count; k++) {
    if (table) planTable(kind, SEGMENT_OTHERS, job, k);
    else plan(kind, job, k);
    const n = planChunks();
    if (n == 0) continue;
    runChunks(kind, SEGMENT_OTHERS, job, k, ++item, n, back, scratch, 0);
    chunks += n;
  }
  return chunks;
}

/**
 * Claims the chunks of tensor k (the job's item `item`, n chunks of the current plan) with
 * claimEnd and runs each until none is left; a table job's are counted done (its segments wait
 * for them; other jobs keep their f64 argument where table jobs count sleepers).
 */
function runChunks(kind: i32, segment: i32, job: usize, k: i32, item: i32, n: i32, back: bool, scratch: usize, sums: usize): void {
  const table = isTableJob(kind);
  for (;;) {
    const chunk = claimEnd(job, item, n, back);
    if (chunk < 0) return;
    const a = chunk * planPer;
    const b = min(planPieces, a + planPer);
    if (!table) {
      work(kind, job, k, a, b);
      continue;
    }
    tableWork(kind, segment, job, k, a, b, scratch, sums);
    chunkDone(job);
  }
}

// JOB_ENDS: the item (bits 38–63), chunks claimed from its front (19–37) and from its back (0–18).
// A tensor has at most 2¹⁶ + 1 chunks (2³¹ values, a chunk ≥ CHUNK_VALUES values or one piece of
// more), a job at most 3 items per tensor.
const ITEM_SHIFT: i64 = 38;
const FRONT_SHIFT: i64 = 19;
const CLAIMED_MASK: i64 = (1 << 19) - 1;

/**
 * Claims a chunk of `item` (n chunks, items numbered from 1 in the order every thread walks
 * them): the next from the front (even threads) or from the back (odd threads); -1 when every
 * chunk of it is claimed. With two threads each streams through its own end of every tensor (of
 * a column tensor, in the block sums and again in the rows: the rows it summed are mostly still
 * in its caches), and where they meet depends only on their speeds: a thread slowed by other work
 * leaves more to the other. The first thread to reach an item moves the word to it: the item
 * before has no chunk left then (a thread reaches item i only after seeing that).
 */
function claimEnd(job: usize, item: i32, n: i32, back: bool): i32 {
  const at = job + JOB_ENDS;
  for (;;) {
    const word = atomic.load<i64>(at);
    const current = <i32>(word >>> ITEM_SHIFT);
    if (current > item) return -1;
    if (current < item) {
      atomic.cmpxchg<i64>(at, word, <i64>item << ITEM_SHIFT);
      continue;
    }
    const front = <i32>((word >>> FRONT_SHIFT) & CLAIMED_MASK);
    const fromBack = <i32>(word & CLAIMED_MASK);
    if (front + fromBack >= n) return -1;
    if (atomic.cmpxchg<i64>(at, word, word + (back ? 1 : <i64>1 << FRONT_SHIFT)) == word) return back ? n - 1 - fromBack : front;
  }
  return -1; // (the loop returns)
}

/** Sets the plan of tensor k of a job that is not a table job. */
function plan(kind: i32, job: usize, k: i32): void {
  if (kind == JOB_STATS) {
    setPlan(arg(job, 5), <f64>arg(job, 1) * <f64>arg(job, 3), 1, 0);
  } else if (kind == JOB_CLIP_NORM) {
    // a tensor is reduced whole by one thread, as in one thread: one piece
    setPlan(1, <f64>CHUNK_VALUES, 1, 0);
  } else if (kind == JOB_LOOKAHEAD) {
    setPlan(load<i32>(<usize>arg(job, 0) + <usize>k * LOOKAHEAD_ENTRY_BYTES, 8), 1, 4, 0);
  } else {
    setPlan(load<i32>(<usize>arg(job, 0) + <usize>k * CLIP_ENTRY_BYTES, 4), 1, 4, 0);
  }
}

/** Pieces [a, b) of tensor k of a job that is not a table job. */
function work(kind: i32, job: usize, k: i32, a: i32, b: i32): void {
  if (kind == JOB_STATS) {
    unitStats(<usize>arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4) + a, b - a, <usize>arg(job, 6) + (<usize>a * STATS_SLOTS << 3));
  } else if (kind == JOB_CLIP_NORM) {
    const e = <usize>arg(job, 0) + <usize>k * CLIP_ENTRY_BYTES;
    store<f64>(<usize>arg(job, 3) + (<usize>k << 3), reduceTensor(<usize>load<u32>(e), load<i32>(e, 4), arg(job, 2)));
  } else if (kind == JOB_LOOKAHEAD) {
    const e = <usize>arg(job, 0) + <usize>k * LOOKAHEAD_ENTRY_BYTES;
    const o = <usize>a << 2;
    lookaheadValues(<usize>load<u32>(e) + o, <usize>load<u32>(e, 4) + o, b - a, <f32>load<f64>(job, JOB_FLOAT));
  } else {
    const e = <usize>arg(job, 0) + <usize>k * CLIP_ENTRY_BYTES;
    const ptr = <usize>load<u32>(e) + (<usize>a << 2);
    const x = <f32>load<f64>(job, JOB_FLOAT);
    if (kind == JOB_CLIP_SCALE) scaleTensor(ptr, b - a, x);
    else clipValues(ptr, b - a, x);
  }
}

/**
 * Thread t's part of the job at `job`: claims chunks (tensor by tensor, piece ranges of each,
 * claimEnd) until none is left; how many threads run it does not matter (thread 0 alone runs the
 * whole job). Table jobs give thread t the scratch at scratch + t·stride.
 */
export function runShare(job: usize, t: i32): void {
  const kind = load<i32>(job, JOB_KIND);
  const back = (t & 1) != 0; // odd threads claim from the back (claimEnd)
  if (isTableJob(kind)) runTable(kind, job, t, back);
  else runTensors(kind, job, kind == JOB_STATS ? 1 : arg(job, 1), back, 0);
}

/** The total norm from JOB_CLIP_NORM's partials, combined in tensor order as clipGradNorm does. */
export function clipNormTotal(partials: usize, count: i32, normType: i32): f64 {
  let total: f64 = 0;
  for (let k = 0; k < count; k++) {
    const part = load<f64>(partials + (<usize>k << 3));
    total = normType == NORM_INF ? max(total, part) : total + part;
  }
  return normType == NORM_L2 ? sqrt(total) : total;
}
