// Gradient Centralization kernels (Yong et al., 2020, arXiv:2004.01461).
// Each kernel subtracts, from every value of an output unit, that unit's mean:
//   rows    (out-first): unit r is the contiguous row x[r, 0..cols)
//   columns (out-last):  unit c is the strided column x[0..rows, c]
// Means are accumulated in float64. The float32 subtraction uses the mean split into
// hi = f32(mean) and lo = f32(mean - hi): (x - hi) - lo keeps the float64 accuracy while
// the SIMD lanes stay 4-wide.
// Loop bounds never overflow i32: vector loops run to a precomputed multiple (n & ~7, n & ~3)
// and blocked loops advance by the block actually done, so a counter never passes its limit.

export const LAYOUT_ROWS = 0;
export const LAYOUT_COLUMNS = 1;

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
function subtractRow(ptr: usize, n: i32, hi: f32, lo: f32): void {
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
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const v = v128.load(ptr + (<usize>i << 2));
      const s = sums + (<usize>i << 3);
      v128.store(s, f64x2.add(v128.load(s), f64x2.promote_low_f32x4(v)));
      v128.store(s, f64x2.add(v128.load(s, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3))), 16);
    }
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
const COLUMN_CHUNK = 4096;

/**
 * Bytes of scratch `centralizeColumns` needs for `cols` columns: float64 sums, then float32 hi
 * and lo, for at most COLUMN_CHUNK columns at a time (0 for an empty matrix: nothing is done).
 */
export function columnScratchBytes(cols: i32): usize {
  return cols <= 0 ? 0 : <usize>min(cols, COLUMN_CHUNK) << 4;
}

/** Rows per block of `accumulateColumns`: a block of a typical layer stays in L1 while it is read. */
const BLOCK_ROWS = 16;

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
 * Out-last GC: x[r, c] ← x[r, c] − mean_r' x[r', c] over a row-major [rows, cols] matrix,
 * COLUMN_CHUNK columns at a time. `scratch` holds columnScratchBytes(cols) bytes.
 */
export function centralizeColumns(ptr: usize, rows: i32, cols: i32, scratch: usize): void {
  if (rows <= 0 || cols <= 0) return;
  const rowBytes = <usize>cols << 2;
  for (let c0 = 0; c0 < cols; ) {
    const width = min(COLUMN_CHUNK, cols - c0);
    centralizeColumnChunk(ptr + (<usize>c0 << 2), rows, width, rowBytes, scratch);
    c0 += width;
  }
}

/** centralizeColumns over `width` columns of rows `rowBytes` apart; scratch: width·16 bytes. */
function centralizeColumnChunk(ptr: usize, rows: i32, width: i32, rowBytes: usize, scratch: usize): void {
  const sums = scratch;
  const hi = scratch + (<usize>width << 3);
  const lo = hi + (<usize>width << 2);
  memory.fill(sums, 0, <usize>width << 3);
  for (let r = 0; r < rows; ) {
    const block = min(BLOCK_ROWS, rows - r);
    accumulateColumns(ptr + <usize>r * rowBytes, block, width, rowBytes, sums);
    r += block;
  }
  for (let c = 0; c < width; c++) {
    const mean = load<f64>(sums + (<usize>c << 3)) / <f64>rows;
    const h = <f32>mean;
    store<f32>(hi + (<usize>c << 2), h);
    store<f32>(lo + (<usize>c << 2), lowPart(mean, h));
  }
  for (let r = 0; r < rows; r++) subtractColumns(ptr + <usize>r * rowBytes, width, hi, lo);
}

/**
 * Runs GC over `count` tensors described by a table of i32 quadruples
 * (ptr, rows, cols, layout), layout 0 = rows, 1 = columns. `scratch` holds
 * columnScratchBytes of the widest column tensor.
 */
export function centralizeMany(table: usize, count: i32, scratch: usize): void {
  for (let k = 0; k < count; k++) {
    const e = table + (<usize>k << 4);
    const ptr = <usize>load<u32>(e);
    const rows = load<i32>(e, 4);
    const cols = load<i32>(e, 8);
    if (load<i32>(e, 12) == LAYOUT_COLUMNS) centralizeColumns(ptr, rows, cols, scratch);
    else centralizeRows(ptr, rows, cols);
  }
}
