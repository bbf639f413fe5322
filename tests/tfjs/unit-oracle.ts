// Float64 references for GC over a general unit axis: the tensor as [outer, units, inner], each unit
// u the values x[o, u, i] for every o and i. Written for reading (index arithmetic, no TF.js).

/** Resolved unit axes: `span` consecutive axes from `axis` merged into one unit index. */
export interface Axes {
  axis: number;
  span: number;
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** The flat indices of each unit of a row-major tensor of `shape`. */
export function unitIndexLists(shape: readonly number[], { axis, span }: Axes): number[][] {
  const outer = product(shape.slice(0, axis));
  const units = product(shape.slice(axis, axis + span));
  const inner = product(shape.slice(axis + span));
  const lists: number[][] = [];
  for (let u = 0; u < units; u++) {
    const list: number[] = [];
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) list.push((o * units + u) * inner + i);
    lists.push(list);
  }
  return lists;
}

/** Each unit minus its mean, in float64. */
export function centralizeAxesReference(values: ArrayLike<number>, shape: readonly number[], axes: Axes): Float64Array {
  const result = Float64Array.from(values);
  for (const unit of unitIndexLists(shape, axes)) {
    const mean = unit.reduce((s, i) => s + values[i], 0) / unit.length;
    for (const i of unit) result[i] = values[i] - mean;
  }
  return result;
}

/** The largest |mean| of a unit, in float64. */
export function largestUnitMean(values: ArrayLike<number>, shape: readonly number[], axes: Axes): number {
  return Math.max(...unitIndexLists(shape, axes).map((unit) => Math.abs(unit.reduce((s, i) => s + values[i], 0) / unit.length)));
}
