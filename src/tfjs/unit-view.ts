// Which axes of a TF.js weight index its output units, and GC over them as TF.js ops: the tensor
// seen as [outer, units, inner], each unit centered over its outer·inner values.
import { mean, reshape, sub, type Tensor, tidy } from "@tensorflow/tfjs-core";
import { kindOf } from "../checks.js";

/**
 * The unit axes of a weight: a number k is axis k (negative: from the end); `{ axis, span }` is
 * the `span` consecutive axes from `axis` merged row-major into one unit index (DepthwiseConv2D's
 * `[kh, kw, in, multiplier]` kernel: `{ axis: 2, span: 2 }`, one unit per (in, multiplier) pair).
 */
export type UnitSpec = number | { readonly axis: number; readonly span: number };

/** A UnitSpec resolved against a rank: `0 ≤ axis`, `1 ≤ span`, `axis + span ≤ rank`. */
export interface UnitAxes {
  readonly axis: number;
  readonly span: number;
}

/**
 * Validates `spec` against a tensor of rank `rank` and resolves a negative axis from the end.
 * Throws a TypeError (not a number or `{ axis, span }` of integers) or a RangeError (out of range)
 * naming `caller` and `name`.
 *
 * @example
 * resolveUnitSpec(-1, 4, "f", "unitAxis");                  // { axis: 3, span: 1 }
 * resolveUnitSpec({ axis: -2, span: 2 }, 4, "f", "unitAxis"); // { axis: 2, span: 2 }
 */
export function resolveUnitSpec(spec: unknown, rank: number, caller: string, name: string): UnitAxes {
  let axis: unknown = spec;
  let span: unknown = 1;
  if (spec !== null && typeof spec === "object" && !Array.isArray(spec)) {
    ({ axis, span } = spec as { axis?: unknown; span?: unknown });
  }
  if (!Number.isInteger(axis) || !Number.isInteger(span)) {
    throw new TypeError(`${caller}: ${name} must be an integer axis or { axis, span } of integers, got ${describeSpec(spec)}`);
  }
  const k = axis as number;
  const n = span as number;
  if (k < -rank || k >= rank) throw new RangeError(`${caller}: ${name} ${k} is out of range for rank ${rank} (−${rank} … ${rank - 1})`);
  const first = k < 0 ? k + rank : k;
  if (n < 1 || first + n > rank) throw new RangeError(`${caller}: ${name} span ${n} from axis ${first} does not fit rank ${rank}`);
  return { axis: first, span: n };
}

function describeSpec(spec: unknown): string {
  if (typeof spec === "number") return String(spec);
  if (spec !== null && typeof spec === "object" && !Array.isArray(spec)) {
    const { axis, span } = spec as { axis?: unknown; span?: unknown };
    return `{ axis: ${typeof axis === "number" ? axis : kindOf(axis)}, span: ${typeof span === "number" ? span : kindOf(span)} }`;
  }
  return kindOf(spec);
}

/**
 * The `[outer, units, inner]` view of `shape` for resolved unit axes: outer = ∏ shape[:axis],
 * units = ∏ shape[axis : axis + span], inner = ∏ shape[axis + span:].
 *
 * @example
 * unitView([3, 3, 8, 2], { axis: 2, span: 2 });  // [9, 16, 1]
 * unitView([5, 7], { axis: 0, span: 1 });        // [1, 5, 7]
 */
export function unitView(shape: readonly number[], axes: UnitAxes): [outer: number, units: number, inner: number] {
  const product = (from: number, to: number) => shape.slice(from, to).reduce((a, b) => a * b, 1);
  return [product(0, axes.axis), product(axes.axis, axes.axis + axes.span), product(axes.axis + axes.span, shape.length)];
}

/**
 * GC over resolved unit axes as TF.js ops: `x[o, u, i] ← x[o, u, i] − mean_{o, i} x[·, u, ·]` in the
 * `[outer, units, inner]` view, then once more on the residual (removes the float32 rounding of the
 * first mean). Returns a new tensor of x's shape; the caller disposes it. Arguments are not checked.
 *
 * @example
 * centralizeUnits(tf.tensor2d([[1, 10], [3, 30]]), { axis: 1, span: 1 }).arraySync(); // [[-1, -10], [1, 10]]
 */
export function centralizeUnits(x: Tensor, axes: UnitAxes): Tensor {
  return tidy(() => {
    const view = reshape(x, unitView(x.shape, axes));
    const residual = sub(view, mean(view, [0, 2], true));
    return reshape(sub(residual, mean(residual, [0, 2], true)), x.shape);
  });
}
