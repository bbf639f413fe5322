// Fused optimizer steps with Gradient Centralization (Yong et al., 2020): the shared GC passes
// and the one loop every rule runs. A rule is its element update over a row (one file per rule
// in this folder) plus its fields in the descriptor table (table.ts). Per tensor:
//   gc "gradient": pass 1 sums the direction d = fl(g + wd·w) per unit in float64 (d is the
//                  float32 value the rule will use, so a unit whose centered d is zero gets a zero
//                  step); pass 2 centers d with that mean split into hi + lo, (d − hi) − lo, then
//                  advances the state and the weight. Decoupled rules (AdamW, Lion) have wd = 0
//                  here: they center g.
//   gc "update":   pass 1 advances the state and writes the whole step Δ (decay included); its
//                  unit sums give the means, pass 2 adds the centered Δ to the weight, so every
//                  unit's weight mean stays where it was (eᵀ(w − w⁰) = 0). Row units keep Δ in a
//                  row buffer between the passes; column units and the general view recompute it
//                  in pass 2 from the state (same float32 operations; see PHASE_ADVANCE_COLUMNS /
//                  PHASE_APPLY).
//                  SGD runs "update" as "gradient": the same step, more accurately, once its
//                  momentum buffer is centered (see stepTensor).
//   gc off:        one pass.
// A tensor is an [outer, units, inner] view (assembly/centralize.ts): its units are rows
// (outer = 1, out-first), columns (inner = 1, out-last) or every row (o, u) of `inner` values
// (the general view); rows are processed one at a time so a unit's two passes over a row stay
// in cache (row units) or close together.

import { accumulateRow, addSums, centralizeUnits, COLUMN_BLOCK_ROWS, COLUMN_CHUNK, columnBlocks, columnMeans, lowPart, storeMeans, sumRow, sumToMean, UNIT_CHUNK, viewRow } from "../centralize";
import { adadeltaRow } from "./adadelta";
import { adagradRow } from "./adagrad";
import { adamFusable, adamRow, adamRowSumNext, adamSplats } from "./adam";
import { adamaxRow } from "./adamax";
import { lionRow } from "./lion";
import { nadamRow } from "./nadam";
import { radamRow } from "./radam";
import { rmspropRow } from "./rmsprop";
import { CENTER_BUFFER, sgdRow } from "./sgd";
import {
  FLAGS, GC_GRADIENT, GC_MODE, GC_UPDATE, GRAD, INNER, OPTIMIZER_ENTRY_BYTES, OUTER, PHASE_ADVANCE, PHASE_ADVANCE_COLUMNS,
  PHASE_APPLY, PHASE_STEP, SCRATCH_SPLATS, STATE_A, UNITS, VALUE, WEIGHT_DECAY,
} from "./table";

export const RULE_SGD = 0;
const RULE_ADAM = 1;
const RULE_RADAM = 2;
const RULE_NADAM = 3;
const RULE_ADAMAX = 4;
const RULE_ADAGRAD = 5;
const RULE_ADADELTA = 6;
const RULE_RMSPROP = 7;
const RULE_LION = 8;

/**
 * One pass of a rule over row `off` (bytes) of n values. hi/lo (the unit means to remove, split
 * into a high and a low float32 part) are read at (lane offset & mask): mask 0 reads one splat of
 * 4 lanes, mask ~0 one value per column. tmp receives Δ in the PHASE_ADVANCE* phases.
 * `rows` rows `stride` bytes apart (column units' pass 2) run as that many calls would, the
 * entry read once for all of them.
 */
export function ruleRow(rule: i32, e: usize, off: usize, n: i32, phase: i32, hi: usize, lo: usize, mask: usize, tmp: usize, rows: i32 = 1, stride: usize = 0): void {
  switch (rule) {
    case RULE_SGD: sgdRow(e, off, n, hi, lo, mask, rows, stride); break;
    case RULE_ADAM: adamRow(e, off, n, phase, hi, lo, mask, tmp, rows, stride); break;
    case RULE_RADAM: radamRow(e, off, n, phase, hi, lo, mask, tmp, rows, stride); break;
    case RULE_NADAM: nadamRow(e, off, n, phase, hi, lo, mask, tmp, rows, stride); break;
    case RULE_ADAMAX: adamaxRow(e, off, n, phase, hi, lo, mask, tmp, rows, stride); break;
    case RULE_ADAGRAD: adagradRow(e, off, n, phase, hi, lo, mask, tmp, rows, stride); break;
    case RULE_ADADELTA: adadeltaRow(e, off, n, phase, hi, lo, mask, tmp, rows, stride); break;
    case RULE_RMSPROP: rmspropRow(e, off, n, phase, hi, lo, mask, tmp, rows, stride); break;
    default: lionRow(e, off, n, phase, hi, lo, mask, tmp, rows, stride);
  }
}

/**
 * Row r's direction d = fl(g + wd·w) as the rules compute it: the gradient row itself when
 * wd = 0, else written to `out` (one float32 rounding per value, as in the rules) and `out` returned.
 */
export function directionRow(e: usize, off: usize, n: i32, out: usize): usize {
  const g = <usize>load<u32>(e, GRAD) + off;
  const wd = load<f32>(e, WEIGHT_DECAY);
  if (wd == 0) return g;
  const w = <usize>load<u32>(e, VALUE) + off;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vwd = f32x4.splat(wd);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.add(v128.load(g + o), f32x4.mul(vwd, v128.load(w + o))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(g + o) + wd * load<f32>(w + o));
  }
  return out;
}

/** w[i] ← w[i] + ((Δ[i] − hi) − lo) for i < n: the last pass of gc "update" over a row whose Δ is in tmp. */
export function addCenteredRow(w: usize, delta: usize, n: i32, hi: f32, lo: f32): void {
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
export function storeSplat(at: usize, hi: f32, lo: f32): void {
  for (let k = 0; k < 4; k++) {
    store<f32>(at + (<usize>k << 2), hi);
    store<f32>(at + 16 + (<usize>k << 2), lo);
  }
}

/**
 * One tensor, an [outer, units, inner] view (see assembly/centralize.ts): its gc mode's passes,
 * over row units (outer = 1: rows of `inner`), column units (inner = 1: rows of `units`, a unit
 * per column) or the general view (rows of `inner`, row (o, u) in unit u); only pieces [a, b) of
 * the stepSpan(e) pieces: each gets the same operations in the same order as in the whole range,
 * so a tensor split into ranges (the threads build) gives the same bits. Scratch layout
 * (src/optim/table.ts sizes it): SCRATCH_SPLATS bytes of splats (hi/lo, a rule's constants), one
 * row of float32 (16-aligned; for column units at most COLUMN_CHUNK columns of it), then for
 * column units a float64 sum, float32 hi and float32 lo per column of a chunk (16 bytes per
 * column, COLUMN_CHUNK columns at most), for the general view a float64 sum per unit of a chunk
 * (UNIT_CHUNK units at most).
 */
export function stepTensor(rule: i32, e: usize, scratch: usize, a: i32, b: i32): void {
  const outer = load<i32>(e, OUTER);
  const units = load<i32>(e, UNITS);
  const inner = load<i32>(e, INNER);
  if (outer == 0 || units == 0 || inner == 0 || b <= a) return;
  // The matrix walked row by row: [outer, units] for column units, [outer·units, inner] otherwise.
  const unitsAreColumns = inner == 1;
  const rows = unitsAreColumns ? outer : outer * units;
  const cols = unitsAreColumns ? units : inner;
  const flags = load<i32>(e, FLAGS);
  // SGD's step s is a linear combination of the momentum buffer and directions d, so P s = s when
  // the buffer and every d are centered: gc "update" runs as "gradient" (centering −lr·buf after
  // rounding it to float32 would be ~500× less accurate on gradients of 1000 + N(0, 1)). The buffer
  // is centered when every step since it was made centered its d over these units; when not (gc
  // was off, the layout or convOnly changed, a checkpoint without that fact was loaded),
  // src/optim sets CENTER_BUFFER for one step and the buffer is centered first:
  // μ·P buf + (1 − dampening)·P d = P(μ·buf + (1 − dampening)·d), the reference's "update".
  const mode = gcMode(rule, e);
  const rowBytes = <usize>cols << 2;
  const splat = scratch; // hi ×4, lo ×4, then a rule's constants (SCRATCH_SPLATS bytes)
  const tmp = scratch + SCRATCH_SPLATS;
  // tmp holds a row, or for column units the part of a row in one chunk of COLUMN_CHUNK columns
  const tmpBytes = unitsAreColumns ? <usize>min(cols, COLUMN_CHUNK) << 2 : rowBytes;
  const sums = tmp + ((tmpBytes + 15) & ~15); // column units: Σd (or ΣΔ) per column of a chunk; general: per unit
  if (mode != GC_GRADIENT && mode != GC_UPDATE) {
    memory.fill(splat, 0, 32);
    if (rows == 1) ruleRow(rule, e, <usize>a << 2, b - a, PHASE_STEP, splat, splat + 16, 0, tmp);
    else ruleRow(rule, e, <usize>a * rowBytes, cols, PHASE_STEP, splat, splat + 16, 0, tmp, b - a, rowBytes);
    return;
  }
  if (rule == RULE_SGD && (flags & CENTER_BUFFER) != 0) {
    // viewScratchBytes(outer, units, inner) ≤ what is at `sums` (16·cols for column units)
    centralizeUnits(<usize>load<u32>(e, STATE_A), outer, units, inner, a, b, sums);
  }
  if (unitsAreColumns) stepColumnUnits(rule, e, mode, rows, cols, a, b, tmp, sums);
  else if (outer == 1) stepRowUnits(rule, e, mode, a, b, cols, splat, tmp);
  else stepUnitRows(rule, e, mode, outer, units, inner, a, b, splat, tmp, sums);
}

/** Whether entry e's gc mode centers (gradient or update): stepTensor's pieces are then its units. */
// @ts-ignore: decorator
@inline function centersUnits(e: usize): bool {
  const mode = load<i32>(e, FLAGS) & GC_MODE;
  return mode == GC_GRADIENT || mode == GC_UPDATE;
}

/** Rows of the matrix stepTensor walks for entry e: [outer, units] for column units, [outer·units, inner] otherwise. */
// @ts-ignore: decorator
@inline function matrixRows(e: usize): i32 {
  const outer = load<i32>(e, OUTER);
  return load<i32>(e, INNER) == 1 ? outer : outer * load<i32>(e, UNITS);
}

/**
 * The pieces stepTensor's range counts for entry e: its units when GC is on; when off, the rows
 * of its matrix, or its values when the matrix is one row (the [1, 1, size] view of GC off).
 */
export function stepSpan(e: usize): i32 {
  if (centersUnits(e)) return load<i32>(e, UNITS);
  const rows = matrixRows(e);
  if (rows != 1) return rows;
  return load<i32>(e, INNER) == 1 ? load<i32>(e, UNITS) : load<i32>(e, INNER);
}

/**
 * The multiple a range of stepTensor starts at: 4 when its pieces are columns or values (each
 * value keeps the SIMD lane or scalar tail it has in the whole range), else 1 (rows, units).
 */
export function stepAlign(e: usize): i32 {
  if (centersUnits(e)) return load<i32>(e, INNER) == 1 ? 4 : 1;
  return matrixRows(e) == 1 ? 4 : 1;
}

/**
 * Row units ([rows, cols], a row each) r0 … r1 − 1: a unit's mean is known after pass 1, and for
 * gc "update" its Δ is still in tmp.
 */
function stepRowUnits(rule: i32, e: usize, mode: i32, r0: i32, r1: i32, cols: i32, splat: usize, tmp: usize): void {
  const rowBytes = <usize>cols << 2;
  const w = <usize>load<u32>(e, VALUE);
  if (ASC_FEATURE_SIMD && rule == RULE_ADAM && mode == GC_GRADIENT && adamFusable(e)) {
    // Row r's step fused with row r + 1's sum: the sum's loads overlap the step's divisions.
    adamSplats(e, splat);
    let total = sumRow(directionRow(e, <usize>r0 * rowBytes, cols, tmp), cols);
    for (let r = r0; r < r1; r++) {
      const off = <usize>r * rowBytes;
      const mean = total / <f64>cols;
      const hi = <f32>mean;
      storeSplat(splat, hi, lowPart(mean, hi));
      if (r + 1 < r1) total = adamRowSumNext(e, off, off + rowBytes, cols, splat, tmp);
      else ruleRow(rule, e, off, cols, PHASE_STEP, splat, splat + 16, 0, tmp);
    }
    return;
  }
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

/**
 * Column units ([rows, cols], a column each) c0 … c1 − 1 (c0 a multiple of 4): every row
 * contributes to every mean, so pass 2 recomputes Δ (gc "update"). COLUMN_CHUNK columns at a time
 * from c0, so the scratch is bounded: a part of a row in tmp, and a float64 sum, float32 hi and
 * lo per column of a chunk at `sums`. A column's sum is Σ over blocks of COLUMN_BLOCK_ROWS rows,
 * in order, of the block's sum from 0 (kept where hi and lo go), as the threads build sums it.
 */
function stepColumnUnits(rule: i32, e: usize, mode: i32, rows: i32, cols: i32, c0: i32, c1: i32, tmp: usize, sums: usize): void {
  const rowBytes = <usize>cols << 2;
  const finalPhase = mode == GC_UPDATE ? PHASE_APPLY : PHASE_STEP;
  for (let c = c0; c < c1; ) {
    const width = min(COLUMN_CHUNK, c1 - c);
    const hi = sums + (<usize>width << 3);
    const lo = hi + (<usize>width << 2);
    const first = <usize>c << 2;
    memory.fill(sums, 0, <usize>width << 3);
    for (let r = 0; r < rows; ) {
      const block = min(COLUMN_BLOCK_ROWS, rows - r);
      columnBlockDirections(rule, e, mode, <usize>r * rowBytes + first, block, rowBytes, width, tmp, hi);
      addSums(sums, hi, width);
      r += block;
    }
    storeMeans(sums, width, rows, hi, lo);
    ruleRow(rule, e, first, width, finalPhase, hi, lo, ~0, tmp, rows, rowBytes);
    c += width;
  }
}

/**
 * Pass 1 of column units over one block of `block` rows from byte offset `off` (rows `rowBytes`
 * apart, `width` columns): out[c] = Σ over the block of d (gc "gradient") or of Δ (gc "update",
 * state advanced by PHASE_ADVANCE_COLUMNS), in float64 from 0.
 */
function columnBlockDirections(rule: i32, e: usize, mode: i32, off: usize, block: i32, rowBytes: usize, width: i32, tmp: usize, out: usize): void {
  memory.fill(out, 0, <usize>width << 3);
  for (let r = 0; r < block; r++) {
    const at = off + <usize>r * rowBytes;
    if (mode == GC_UPDATE) {
      ruleRow(rule, e, at, width, PHASE_ADVANCE_COLUMNS, 0, 0, 0, tmp);
      accumulateRow(tmp, width, out);
    } else accumulateRow(directionRow(e, at, width, tmp), width, out);
  }
}

/**
 * Whether stepTensor runs entry e as column units with GC (threads build: pass 1 split by blocks
 * of rows, pass 2 by rows, see stepColumnSums and stepColumnRows).
 */
export function stepsColumns(e: usize): bool {
  return centersUnits(e) && load<i32>(e, INNER) == 1 && load<i32>(e, OUTER) > 0 && load<i32>(e, UNITS) > 0;
}

/**
 * Bytes of the column sums of entry e split across threads (0 unless stepsColumns): a float64 per
 * column and block (stepColumnSums), then the means' float32 hi and lo per column (stepColumnMeans).
 */
export function stepColumnSumsBytes(e: usize): usize {
  if (!stepsColumns(e)) return 0;
  return <usize>(columnBlocks(load<i32>(e, OUTER)) + 1) * (<usize>load<i32>(e, UNITS) << 3);
}

/**
 * Pass 1 of stepColumnUnits over blocks [b0, b1) of entry e's rows, all its columns:
 * partials[b·cols + c] = the block's Σ of d (or Δ) from 0. Scratch as stepTensor's.
 */
export function stepColumnSums(rule: i32, e: usize, scratch: usize, b0: i32, b1: i32, partials: usize): void {
  const rows = load<i32>(e, OUTER);
  const cols = load<i32>(e, UNITS);
  const mode = gcMode(rule, e);
  const rowBytes = <usize>cols << 2;
  const tmp = scratch + SCRATCH_SPLATS;
  for (let b = b0; b < b1; b++) {
    const r0 = b * COLUMN_BLOCK_ROWS;
    const block = min(COLUMN_BLOCK_ROWS, rows - r0);
    for (let c = 0; c < cols; ) {
      const width = min(COLUMN_CHUNK, cols - c);
      const out = partials + ((<usize>b * <usize>cols + <usize>c) << 3);
      columnBlockDirections(rule, e, mode, <usize>r0 * rowBytes + (<usize>c << 2), block, rowBytes, width, tmp, out);
      c += width;
    }
  }
}

/**
 * The means of columns [c0, c1) of entry e from stepColumnSums's block sums at `partials` (added
 * in block order, as stepColumnUnits adds them), split into float32 hi and lo after the block
 * sums (hi: a float32 per column, then lo). Scratch as stepTensor's.
 */
export function stepColumnMeans(e: usize, scratch: usize, c0: i32, c1: i32, partials: usize): void {
  const rows = load<i32>(e, OUTER);
  const cols = load<i32>(e, UNITS);
  const blocks = columnBlocks(rows);
  const hi = partials + (<usize>blocks * <usize>cols << 3);
  const sums = scratch + SCRATCH_SPLATS + (((<usize>min(cols, COLUMN_CHUNK) << 2) + 15) & ~15);
  columnMeans(partials, blocks, rows, cols, c0, c1, sums, hi, hi + (<usize>cols << 2));
}

/** Pass 2 of stepColumnUnits over rows [r0, r1) of entry e, with stepColumnMeans's means. Scratch as stepTensor's. */
export function stepColumnRows(rule: i32, e: usize, scratch: usize, r0: i32, r1: i32, partials: usize): void {
  const rows = load<i32>(e, OUTER);
  const cols = load<i32>(e, UNITS);
  const finalPhase = gcMode(rule, e) == GC_UPDATE ? PHASE_APPLY : PHASE_STEP;
  const rowBytes = <usize>cols << 2;
  const hi = partials + (<usize>columnBlocks(rows) * <usize>cols << 3);
  const lo = hi + (<usize>cols << 2);
  for (let c = 0; c < cols; ) {
    const width = min(COLUMN_CHUNK, cols - c);
    const o = <usize>c << 2;
    ruleRow(rule, e, <usize>r0 * rowBytes + o, width, finalPhase, hi + o, lo + o, ~0, scratch + SCRATCH_SPLATS, r1 - r0, rowBytes);
    c += width;
  }
}

/** The gc mode stepTensor runs entry e with (SGD runs "update" as "gradient"). */
// @ts-ignore: decorator
@inline function gcMode(rule: i32, e: usize): i32 {
  const flags = load<i32>(e, FLAGS);
  return rule == RULE_SGD && (flags & GC_MODE) == GC_UPDATE ? GC_GRADIENT : flags & GC_MODE;
}

/**
 * The general view (outer > 1, inner > 1), units u0 … u1 − 1: rows of `inner` values, row (o, u)
 * in unit u, UNIT_CHUNK units at a time. Pass 1 sums d (gc "gradient") or Δ (gc "update",
 * PHASE_ADVANCE_COLUMNS) per unit in float64; pass 2 runs each row with its unit's mean in one
 * splat (PHASE_STEP, or PHASE_APPLY recomputing Δ as column units do). Rules are elementwise, so
 * each row needs only its own two passes in order.
 */
function stepUnitRows(rule: i32, e: usize, mode: i32, outer: i32, units: i32, inner: i32, u0: i32, u1: i32, splat: usize, tmp: usize, sums: usize): void {
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

// @ts-ignore: decorator
@inline function stepAll(rule: i32, table: usize, count: i32, scratch: usize): void {
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * OPTIMIZER_ENTRY_BYTES;
    stepTensor(rule, e, scratch, 0, stepSpan(e));
  }
}

/** One SGD step (GC fused) over `count` tensors described at `table`; `scratch` fits the widest. */
export function sgdStep(table: usize, count: i32, scratch: usize): void {
  stepAll(RULE_SGD, table, count, scratch);
}

/** One Adam or AdamW step (GC fused) over `count` tensors described at `table`; `scratch` fits the widest. */
export function adamStep(table: usize, count: i32, scratch: usize): void {
  stepAll(RULE_ADAM, table, count, scratch);
}

/** One RAdam step (GC fused) over `count` tensors described at `table`. */
export function radamStep(table: usize, count: i32, scratch: usize): void {
  stepAll(RULE_RADAM, table, count, scratch);
}

/** One NAdam step (GC fused) over `count` tensors described at `table`. */
export function nadamStep(table: usize, count: i32, scratch: usize): void {
  stepAll(RULE_NADAM, table, count, scratch);
}

/** One Adamax step (GC fused) over `count` tensors described at `table`. */
export function adamaxStep(table: usize, count: i32, scratch: usize): void {
  stepAll(RULE_ADAMAX, table, count, scratch);
}

/** One Adagrad step (GC fused) over `count` tensors described at `table`. */
export function adagradStep(table: usize, count: i32, scratch: usize): void {
  stepAll(RULE_ADAGRAD, table, count, scratch);
}

/** One Adadelta step (GC fused) over `count` tensors described at `table`. */
export function adadeltaStep(table: usize, count: i32, scratch: usize): void {
  stepAll(RULE_ADADELTA, table, count, scratch);
}

/** One RMSprop step (GC fused) over `count` tensors described at `table`. */
export function rmspropStep(table: usize, count: i32, scratch: usize): void {
  stepAll(RULE_RMSPROP, table, count, scratch);
}

/** One Lion step (GC fused) over `count` tensors described at `table`. */
export function lionStep(table: usize, count: i32, scratch: usize): void {
  stepAll(RULE_LION, table, count, scratch);
}
