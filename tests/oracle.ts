// Float64 references, written for reading rather than speed: every kernel is checked against these.

export type Layout = "out-first" | "out-last" | { unitAxis: number };

/** Product of the dims. */
export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * The elements of each output unit, as lists of flat indices: out-first, unit u is
 * x[u, ...] (indices u·inner … u·inner + inner − 1); out-last, unit u is x[..., u]
 * (indices u, u + out, u + 2·out, …); { unitAxis: k } (k < 0 counts from the end), unit u is
 * every element whose index along axis k is u. Rank ≤ 1: one unit holding everything.
 */
export function unitIndices(shape: readonly number[], layout: Layout): number[][] {
  const size = product(shape);
  if (shape.length <= 1) return [Array.from({ length: size }, (_, i) => i)];
  const rank = shape.length;
  const axis = layout === "out-first" ? 0 : layout === "out-last" ? rank - 1 : layout.unitAxis < 0 ? layout.unitAxis + rank : layout.unitAxis;
  if (!(axis >= 0 && axis < rank)) throw new Error(`oracle: unit axis ${JSON.stringify(layout)} out of range for rank ${rank}`);
  const units: number[][] = Array.from({ length: shape[axis] }, () => []);
  // Walk every flat index with its multi-index (row-major), and file it under its coordinate on the axis.
  const index = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < size; flat++) {
    units[index[axis]].push(flat);
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return units;
}

/** GC in float64: each unit minus its mean, for rank > 1 (rank > 3 with convOnly); else a copy. */
export function centralizeReference(
  values: ArrayLike<number>,
  shape: readonly number[],
  layout: Layout = "out-first",
  convOnly = false,
): Float64Array {
  const result = Float64Array.from(values);
  if (shape.length <= (convOnly ? 3 : 1)) return result;
  for (const unit of unitIndices(shape, layout)) {
    let sum = 0;
    for (const i of unit) sum += values[i];
    const mean = sum / unit.length;
    for (const i of unit) result[i] = values[i] - mean;
  }
  return result;
}

/** Per-unit statistics over finite values, and whole-tensor non-finite counts. */
export function statsReference(values: ArrayLike<number>, shape: readonly number[], layout: Layout = "out-first") {
  const units = unitIndices(shape, layout);
  const stats = { units: units.length, count: [] as number[], mean: [] as number[], std: [] as number[], min: [] as number[], max: [] as number[], nan: 0, posInf: 0, negInf: 0 };
  for (const unit of units) {
    const finite = unit.map((i) => values[i]).filter(Number.isFinite);
    const n = finite.length;
    const mean = n ? finite.reduce((a, b) => a + b, 0) / n : NaN;
    stats.count.push(n);
    stats.mean.push(mean);
    stats.std.push(n ? Math.sqrt(finite.reduce((a, x) => a + (x - mean) ** 2, 0) / n) : NaN);
    stats.min.push(n ? Math.min(...finite) : NaN);
    stats.max.push(n ? Math.max(...finite) : NaN);
    for (const i of unit) {
      if (Number.isNaN(values[i])) stats.nan++;
      else if (values[i] === Infinity) stats.posInf++;
      else if (values[i] === -Infinity) stats.negInf++;
    }
  }
  return stats;
}

/** Largest |a[i] − b[i]|, treating equal non-finite values (NaN with NaN, ±Inf alike) as 0 apart. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
    const d = Math.abs(a[i] - b[i]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}
