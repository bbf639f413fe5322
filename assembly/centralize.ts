// Gradient Centralization kernels (Yong et al., 2020, arXiv:2004.01461).
// A tensor is an [outer, units, inner] view (row-major): unit u is every x[o, u, i], and GC
// subtracts from each of them the unit's mean over all (o, i). `centralizeView` takes the view;
// its two ends have their own kernels:
//   rows    (outer = 1, out-first):  unit r is the contiguous row x[r, 0..cols)
//   columns (inner = 1, out-last):   unit c is the strided column x[0..rows, c]
//   general (outer, inner > 1; TF.js Conv2DTranspose [kh·kw, filters, in]): rows of `inner`
//            values, row r in unit r mod units
// Means are accumulated in float64. The float32 subtraction uses the mean split into
// hi = f32(mean) and lo = f32(mean - hi): (x - hi) - lo keeps the float64 accuracy while
// the SIMD lanes stay 4-wide.
// Loop bounds never overflow i32: vector loops run to a precomputed multiple (n & ~7, n & ~3)
// and blocked loops advance by the block actually done, so a counter never passes its limit.

/** Σ x[i] for i < n, in float64. */
export function sumRow(ptr: usize, n: i32): f64 {
  let i = 0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let a2 = f64x2.splat(0);
    let a3 = f64x2.splat(0);
    const n8 = n & ~7;
    for (; i < n8; i += 8) {
      const p = ptr + (<usize>i << 2);
      const v0 = v128.load(p);
      const v1 = v128.load(p, 16);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v0));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 2, 3)));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(v1));
      a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 2, 3)));
    }
    const s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  }
  for (; i < n; i++) total += <f64>load<f32>(ptr + (<usize>i << 2));
  return total;
}

/** x[i] ← (x[i] − hi) − lo for i < n. */
export function subtractRow(ptr: usize, n: i32, hi: f32, lo: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vh = f32x4.splat(hi);
    const vl = f32x4.splat(lo);
    const n8 = n & ~7;
    for (; i < n8; i += 8) {
      const p = ptr + (<usize>i << 2);
      v128.store(p, f32x4.sub(f32x4.sub(v128.load(p), vh), vl));
      v128.store(p, f32x4.sub(f32x4.sub(v128.load(p, 16), vh), vl), 16);
    }
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const p = ptr + (<usize>i << 2);
      v128.store(p, f32x4.sub(f32x4.sub(v128.load(p), vh), vl));
    }
  }
  for (; i < n; i++) {
    const p = ptr + (<usize>i << 2);
    store<f32>(p, (load<f32>(p) - hi) - lo);
  }
}

/** The low part of a mean split into hi + lo; 0 when the mean is not finite (Inf − Inf would be NaN). */
// @ts-ignore: decorator
@inline export function lowPart(mean: f64, hi: f32): f32 {
  return isFinite(mean) ? <f32>(mean - <f64>hi) : 0;
}

/**
 * The means of `n` columns from their float64 sums over `rows` rows, split as GC subtracts them:
 * hi[k] = f32(mean), lo[k] = lowPart(mean, hi[k]).
 */
export function storeMeans(sums: usize, n: i32, rows: i32, hi: usize, lo: usize): void {
  for (let k = 0; k < n; k++) {
    const mean = load<f64>(sums + (<usize>k << 3)) / <f64>rows;
    const h = <f32>mean;
    store<f32>(hi + (<usize>k << 2), h);
    store<f32>(lo + (<usize>k << 2), lowPart(mean, h));
  }
}

/**
 * One loop over two rows: cur[i] ← (cur[i] − hi) − lo, and returns Σ next[i] in float64.
 * Summing the next row while the current one (already in cache) is written keeps the memory
 * system busy with reads during the writes.
 */
function subtractRowSumNext(cur: usize, next: usize, n: i32, hi: f32, lo: f32): f64 {
  let i = 0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const vh = f32x4.splat(hi);
    const vl = f32x4.splat(lo);
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let a2 = f64x2.splat(0);
    let a3 = f64x2.splat(0);
    const n8 = n & ~7;
    for (; i < n8; i += 8) {
      const o = <usize>i << 2;
      const v0 = v128.load(next + o);
      const v1 = v128.load(next + o, 16);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v0));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 2, 3)));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(v1));
      a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 2, 3)));
      v128.store(cur + o, f32x4.sub(f32x4.sub(v128.load(cur + o), vh), vl));
      v128.store(cur + o, f32x4.sub(f32x4.sub(v128.load(cur + o, 16), vh), vl), 16);
    }
    const s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    total += <f64>load<f32>(next + o);
    store<f32>(cur + o, (load<f32>(cur + o) - hi) - lo);
  }
  return total;
}

/** Out-first GC: x[r, c] ← x[r, c] − mean_c' x[r, c'] over a row-major [rows, cols] matrix. */
export function centralizeRows(ptr: usize, rows: i32, cols: i32): void {
  if (rows <= 0 || cols <= 0) return;
  const rowBytes = <usize>cols << 2;
  let mean = sumRow(ptr, cols) / <f64>cols;
  for (let r = 0; r < rows - 1; r++) {
    const p = ptr + <usize>r * rowBytes;
    const hi = <f32>mean;
    mean = subtractRowSumNext(p, p + rowBytes, cols, hi, lowPart(mean, hi)) / <f64>cols;
  }
  const hi = <f32>mean;
  subtractRow(ptr + <usize>(rows - 1) * rowBytes, cols, hi, lowPart(mean, hi));
}

/** sums[c] += x[c] for c < n (sums in float64). */
export function accumulateRow(ptr: usize, n: i32, sums: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // Stepped pointers, not scaled indices: V8 runs the scaled form ~30% slower over a shared
    // memory (the threads build), the same in an unshared one (bench/experiments.md).
    const n4 = n & ~3;
    const end = ptr + (<usize>n4 << 2);
    for (let p = ptr, s = sums; p < end; p += 16, s += 32) {
      const v = v128.load(p);
      v128.store(s, f64x2.add(v128.load(s), f64x2.promote_low_f32x4(v)));
      v128.store(s, f64x2.add(v128.load(s, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3))), 16);
    }
    i = n4;
  }
  for (; i < n; i++) {
    const s = sums + (<usize>i << 3);
    store<f64>(s, load<f64>(s) + <f64>load<f32>(ptr + (<usize>i << 2)));
  }
}

/** x[c] ← (x[c] − hi[c]) − lo[c] for c < n. */
function subtractColumns(ptr: usize, n: i32, hi: usize, lo: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const n8 = n & ~7;
    for (; i < n8; i += 8) {
      const o = <usize>i << 2;
      const x0 = v128.load(ptr + o);
      const x1 = v128.load(ptr + o, 16);
      const h0 = v128.load(hi + o);
      const h1 = v128.load(hi + o, 16);
      const l0 = v128.load(lo + o);
      const l1 = v128.load(lo + o, 16);
      v128.store(ptr + o, f32x4.sub(f32x4.sub(x0, h0), l0));
      v128.store(ptr + o, f32x4.sub(f32x4.sub(x1, h1), l1), 16);
    }
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const o = <usize>i << 2;
      v128.store(ptr + o, f32x4.sub(f32x4.sub(v128.load(ptr + o), v128.load(hi + o)), v128.load(lo + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(ptr + o, (load<f32>(ptr + o) - load<f32>(hi + o)) - load<f32>(lo + o));
  }
}

/**
 * Columns centralized together by `centralizeColumns`: their float64 sums and float32 hi/lo
 * (16 bytes a column, 64 KiB) are its whole scratch, however wide the matrix.
 */
export const COLUMN_CHUNK = 4096;

/**
 * Bytes of scratch `centralizeColumns` needs for `cols` columns: float64 sums, then float32 hi
 * and lo, for at most COLUMN_CHUNK columns at a time (0 for an empty matrix: nothing is done).
 */
export function columnScratchBytes(cols: i32): usize {
  return cols <= 0 ? 0 : <usize>min(cols, COLUMN_CHUNK) << 4;
}

/**
 * Rows per block of the column sums: a column's sum is Σ over blocks, in order, of the block's sum
 * from 0 down its rows, in every build and however the work is split (the threads build sums
 * blocks on different threads, then adds them in this order: assembly/threads.ts).
 */
export const COLUMN_BLOCK_ROWS = 64;

/**
 * sums[c] += Σ_r x[r, c] over a block of `rows` rows, `cols` columns, rows `rowBytes` apart,
 * 8 columns at a time, their float64 sums kept in registers down the block.
 */
function accumulateColumns(ptr: usize, rows: i32, cols: i32, rowBytes: usize, sums: usize): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const cols8 = cols & ~7;
    for (; j < cols8; j += 8) {
      let a0 = f64x2.splat(0);
      let a1 = f64x2.splat(0);
      let a2 = f64x2.splat(0);
      let a3 = f64x2.splat(0);
      let p = ptr + (<usize>j << 2);
      for (let r = 0; r < rows; r++, p += rowBytes) {
        const v0 = v128.load(p);
        const v1 = v128.load(p, 16);
        a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v0));
        a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 2, 3)));
        a2 = f64x2.add(a2, f64x2.promote_low_f32x4(v1));
        a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 2, 3)));
      }
      const s = sums + (<usize>j << 3);
      v128.store(s, f64x2.add(v128.load(s), a0));
      v128.store(s, f64x2.add(v128.load(s, 16), a1), 16);
      v128.store(s, f64x2.add(v128.load(s, 32), a2), 32);
      v128.store(s, f64x2.add(v128.load(s, 48), a3), 48);
    }
  }
  for (; j < cols; j++) {
    let total: f64 = 0;
    let p = ptr + (<usize>j << 2);
    for (let r = 0; r < rows; r++, p += rowBytes) total += <f64>load<f32>(p);
    const s = sums + (<usize>j << 3);
    store<f64>(s, load<f64>(s) + total);
  }
}

/**
 * Widths from which `accumulateColumnBlock` sums a block faster than `accumulateColumns`
 * (measured, bench/experiments.md: 1.8× faster on ResNet-18 out-last, even at 64 columns,
 * 1.5–2.8× slower at 32 or fewer, where a call per row of a block costs more than it saves).
 */
const ROWWISE_WIDTH = 64;

/**
 * sums[c] += Σ_r x[r, c] over a block of `rows` rows, `cols` columns, rows `rowBytes` apart, as
 * accumulateColumns sums it (the block's sum from 0 down its rows, then added to sums[c]), but
 * walking each row left to right: the block's sums are kept in `partial` (cols float64).
 */
function accumulateColumnBlock(ptr: usize, rows: i32, cols: i32, rowBytes: usize, sums: usize, partial: usize): void {
  memory.fill(partial, 0, <usize>cols << 3);
  for (let r = 0; r < rows; r++) accumulateRow(ptr + <usize>r * rowBytes, cols, partial);
  addSums(sums, partial, cols);
}

/**
 * Out-last GC: x[r, c] ← x[r, c] − mean_r' x[r', c] over a row-major [rows, cols] matrix,
 * COLUMN_CHUNK columns at a time. `scratch` holds columnScratchBytes(cols) bytes.
 */
export function centralizeColumns(ptr: usize, rows: i32, cols: i32, scratch: usize): void {
  if (rows <= 0 || cols <= 0) return;
  centralizeColumnRange(ptr, rows, cols, 0, cols, scratch);
}

/**
 * centralizeColumns over columns [c0, c1) (c0 a multiple of 4, so each value keeps its SIMD
 * lane or scalar tail), COLUMN_CHUNK columns at a time from c0.
 */
function centralizeColumnRange(ptr: usize, rows: i32, cols: i32, c0: i32, c1: i32, scratch: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let c = c0; c < c1; ) {
    const width = min(COLUMN_CHUNK, c1 - c);
    centralizeColumnChunk(ptr + (<usize>c << 2), rows, width, rowBytes, scratch);
    c += width;
  }
}

/** centralizeColumns over `width` columns of rows `rowBytes` apart; scratch: width·16 bytes. */
function centralizeColumnChunk(ptr: usize, rows: i32, width: i32, rowBytes: usize, scratch: usize): void {
  const sums = scratch;
  const hi = scratch + (<usize>width << 3);
  const lo = hi + (<usize>width << 2);
  memory.fill(sums, 0, <usize>width << 3);
  for (let r = 0; r < rows; ) {
    const block = min(COLUMN_BLOCK_ROWS, rows - r);
    // the block's float64 partials go where hi and lo will be (8 bytes a column, unused until the means)
    if (width >= ROWWISE_WIDTH) accumulateColumnBlock(ptr + <usize>r * rowBytes, block, width, rowBytes, sums, hi);
    else accumulateColumns(ptr + <usize>r * rowBytes, block, width, rowBytes, sums);
    r += block;
  }
  storeMeans(sums, width, rows, hi, lo);
  for (let r = 0; r < rows; r++) subtractColumns(ptr + <usize>r * rowBytes, width, hi, lo);
}

/** Blocks of COLUMN_BLOCK_ROWS rows in a matrix of `rows` rows. */
// @ts-ignore: decorator
@inline export function columnBlocks(rows: i32): i32 {
  return (rows + COLUMN_BLOCK_ROWS - 1) / COLUMN_BLOCK_ROWS;
}

/**
 * The column sums of blocks [b0, b1) of a row-major [rows, cols] matrix, each from 0:
 * partials[b·cols + c] = Σ_{r in block b} x[r, c] (float64), as centralizeColumnChunk sums a block.
 */
export function columnBlockSums(ptr: usize, rows: i32, cols: i32, b0: i32, b1: i32, partials: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let b = b0; b < b1; b++) {
    const r0 = b * COLUMN_BLOCK_ROWS;
    const block = min(COLUMN_BLOCK_ROWS, rows - r0);
    const slot = partials + <usize>b * (<usize>cols << 3);
    const first = ptr + <usize>r0 * rowBytes;
    memory.fill(slot, 0, <usize>cols << 3);
    if (cols >= ROWWISE_WIDTH) for (let r = 0; r < block; r++) accumulateRow(first + <usize>r * rowBytes, cols, slot);
    else accumulateColumns(first, block, cols, rowBytes, slot);
  }
}

/** sums[c] += add[c] for c < n (float64). */
export function addSums(sums: usize, add: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const n2 = n & ~1;
    for (; j < n2; j += 2) {
      const o = <usize>j << 3;
      v128.store(sums + o, f64x2.add(v128.load(sums + o), v128.load(add + o)));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 3;
    store<f64>(sums + o, load<f64>(sums + o) + load<f64>(add + o));
  }
}

/**
 * The means of columns [c0, c1) of a [rows, cols] matrix from its `blocks` block sums at
 * `partials` (columnBlockSums; added in block order, from 0, as centralizeColumnChunk adds
 * them), split into float32 hi[c] and lo[c]; COLUMN_CHUNK columns at a time, their float64 sums
 * at `sums` (8 bytes a column).
 */
export function columnMeans(partials: usize, blocks: i32, rows: i32, cols: i32, c0: i32, c1: i32, sums: usize, hi: usize, lo: usize): void {
  for (let c = c0; c < c1; ) {
    const width = min(COLUMN_CHUNK, c1 - c);
    memory.fill(sums, 0, <usize>width << 3);
    for (let b = 0; b < blocks; b++) addSums(sums, partials + ((<usize>b * <usize>cols + <usize>c) << 3), width);
    storeMeans(sums, width, rows, hi + (<usize>c << 2), lo + (<usize>c << 2));
    c += width;
  }
}

/** Out-last GC of rows [r0, r1) of a [rows, cols] matrix: x[r, c] ← (x[r, c] − hi[c]) − lo[c] (columnMeans's hi and lo). */
export function subtractColumnMeans(ptr: usize, cols: i32, r0: i32, r1: i32, hi: usize, lo: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = r0; r < r1; r++) subtractColumns(ptr + <usize>r * rowBytes, cols, hi, lo);
}

/**
 * Units whose float64 sums the general view keeps at once (8 bytes each, 32 KiB): its whole
 * scratch, however many units there are.
 */
export const UNIT_CHUNK = 4096;

/**
 * Bytes of scratch `centralizeView` needs for an [outer, units, inner] view: columnScratchBytes
 * for column units (inner = 1), none for row units (outer = 1), a float64 per unit (at most
 * UNIT_CHUNK of them) otherwise; 0 for an empty view.
 */
export function viewScratchBytes(outer: i32, units: i32, inner: i32): usize {
  if (outer <= 0 || units <= 0 || inner <= 0) return 0;
  if (inner == 1) return columnScratchBytes(units);
  if (outer == 1) return 0;
  return <usize>min(units, UNIT_CHUNK) << 3;
}

/** Address of row (o, u) of an [outer, units, inner] view: its `inner` values are contiguous. */
// @ts-ignore: decorator
@inline export function viewRow(ptr: usize, o: i32, units: i32, u: i32, rowBytes: usize): usize {
  return ptr + (<usize>o * <usize>units + <usize>u) * rowBytes;
}

/**
 * Turns the float64 sum at `at` into its unit's mean (over `count` values) split into hi and lo,
 * stored as two float32 in the same 8 bytes.
 */
// @ts-ignore: decorator
@inline export function sumToMean(at: usize, count: f64): void {
  const mean = load<f64>(at) / count;
  const hi = <f32>mean;
  store<f32>(at, hi);
  store<f32>(at, lowPart(mean, hi), 4);
}

/**
 * GC of the general view (outer > 1, inner > 1) over units [u0, u1): per unit, Σ of its `outer`
 * rows of `inner` values in float64, then each row minus the mean (hi, lo); UNIT_CHUNK units at
 * a time. `scratch` holds viewScratchBytes(outer, units, inner) bytes.
 */
function centralizeUnitRows(ptr: usize, outer: i32, units: i32, inner: i32, u0: i32, u1: i32, scratch: usize): void {
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

/**
 * GC of an [outer, units, inner] view: x[o, u, i] ← x[o, u, i] − mean over (o', i') of
 * x[o', u, i']. Column units (inner = 1) and row units (outer = 1) run their own kernels.
 * `scratch` holds viewScratchBytes(outer, units, inner) bytes.
 */
export function centralizeView(ptr: usize, outer: i32, units: i32, inner: i32, scratch: usize): void {
  centralizeUnits(ptr, outer, units, inner, 0, units, scratch);
}

/**
 * centralizeView's GC of units [u0, u1) only (a column unit's u0 a multiple of 4): each unit gets
 * the same operations in the same order as in the whole view, so a view split into unit ranges
 * (the threads build) gives the same bits.
 */
export function centralizeUnits(ptr: usize, outer: i32, units: i32, inner: i32, u0: i32, u1: i32, scratch: usize): void {
  if (outer <= 0 || units <= 0 || inner <= 0 || u1 <= u0) return;
  if (inner == 1) centralizeColumnRange(ptr, outer, units, u0, u1, scratch);
  else if (outer == 1) centralizeRows(ptr + <usize>u0 * (<usize>inner << 2), u1 - u0, inner);
  else centralizeUnitRows(ptr, outer, units, inner, u0, u1, scratch);
}

/**
 * Runs GC over `count` tensors described by a table of i32 quadruples (ptr, outer, units,
 * inner): `centralizeView` of each. `scratch` holds the largest viewScratchBytes among them.
 */
export function centralizeMany(table: usize, count: i32, scratch: usize): void {
  for (let k = 0; k < count; k++) {
    const e = table + (<usize>k << 4);
    centralizeView(<usize>load<u32>(e), load<i32>(e, 4), load<i32>(e, 8), load<i32>(e, 12), scratch);
  }
}
