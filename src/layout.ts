// Where the output-unit axis is, and which tensors GC touches.
import { isArrayValue, readDataRecord, readOptions, typedArrayKind } from "./args.js";
import { checkRecord, isBoolean, kindOf, oneOf, type OptionCheck } from "./checks.js";

/**
 * Which axis of a tensor holds its output units (GC removes each unit's mean over every other axis).
 * `"out-first"`: axis 0 (PyTorch, ONNX: dense `[out, in]`, conv `[out, in, kh, kw]`).
 * `"out-last"`: the last axis (TF.js, Keras, Flax: dense `[in, out]`, conv `[kh, kw, in, out]`).
 * `{ unitAxis: k }`: axis k, negative from the end (TF.js Conv2DTranspose `[kh, kw, filters, in]`:
 * `{ unitAxis: -2 }`); `{ unitAxis: 0 }` is `"out-first"`, `{ unitAxis: -1 }` is `"out-last"`.
 *
 * @example
 * centralize(g, [3, 3, 8, 16], { layout: { unitAxis: -2 } }); // 8 units of 3·3·16 values
 */
export type Layout = "out-first" | "out-last" | UnitAxis;

/**
 * A layout naming the unit axis: k in [−rank, rank) of each tensor it is used with (−1 is the
 * last axis); the tensor is then the view `[prod(shape[:k]), shape[k], prod(shape[k+1:])]`.
 *
 * @example
 * new Adam(params, { layout: { unitAxis: -2 } }); // TF.js Conv2DTranspose kernels [kh, kw, filters, in]
 */
export interface UnitAxis {
  readonly unitAxis: number;
}

/** Options of `centralize` and `centralizeAll`. */
export interface CentralizeOptions {
  /** Which axis holds the output units (`"out-first"`, `"out-last"` or `{ unitAxis: k }`); default `"out-first"`. */
  layout?: Layout;
  /** Centralize only rank > 3 tensors (convolution kernels: the paper's GCC); default `false`. */
  convOnly?: boolean;
}

/** Option check: `"out-first"` or `"out-last"` (the named layouts only). */
export const layoutCheck = oneOf("out-first", "out-last");

/**
 * A caller's `layout` value as plain data: a `{ unitAxis }` object is read into a frozen copy
 * with no prototype (see args.ts's `readDataRecord`: own data properties only, each read once, a
 * getter refused); anything else is returned as it is (strings; wrong kinds for the check to name).
 *
 * @example
 * copyLayout({ unitAxis: -2 }, "centralize", "options.layout"); // Object.freeze({ __proto__: null, unitAxis: -2 })
 * copyLayout({ get unitAxis() { return 1; } }, "centralize", "options.layout"); // TypeError: ... must be a plain data property
 */
export function copyLayout(value: unknown, caller: string, name: string): unknown {
  if (value === null || typeof value !== "object" || isArrayValue(value) || typedArrayKind(value) !== undefined) return value;
  return readDataRecord(value, caller, name);
}

/**
 * Option check of a layout (after `copyLayout`): `"out-first"`, `"out-last"`, or `{ unitAxis: k }`
 * with exactly that key and k an integer (its range is checked against each tensor's rank by
 * `unitView`).
 *
 * @example
 * layoutOrAxisCheck({ unitAxis: 1.5 }, "centralize", "options.layout"); // RangeError: centralize: options.layout.unitAxis must be an integer, got 1.5
 */
export const layoutOrAxisCheck: OptionCheck = (value, caller, name) => {
  if (typeof value === "string") return layoutCheck(value, caller, name);
  if (value === null || typeof value !== "object" || isArrayValue(value)) {
    throw new TypeError(`${caller}: ${name} must be "out-first", "out-last" or { unitAxis: integer }, got ${kindOf(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== "unitAxis") throw new TypeError(`${caller}: ${name}.${key} is not a field of a layout (known: unitAxis)`);
  }
  if (!Object.hasOwn(record, "unitAxis")) throw new TypeError(`${caller}: ${name} must be "out-first", "out-last" or { unitAxis: integer }, got an object without unitAxis`);
  const axis = record.unitAxis;
  if (typeof axis !== "number") throw new TypeError(`${caller}: ${name}.unitAxis must be an integer, got ${kindOf(axis)}`);
  if (!Number.isSafeInteger(axis)) throw new RangeError(`${caller}: ${name}.unitAxis must be an integer, got ${axis}`);
};

/** The options a call with a layout takes (`known`, their `checks`: one of them `layout`). */
export interface LayoutOptionChecks {
  readonly known: readonly string[];
  readonly checks: Record<string, OptionCheck>;
}

/**
 * Reads the options of a call with a layout once (no key outside `spec.known`), copies a
 * `{ unitAxis }` layout (copyLayout), then runs `spec.checks`; the keys left undefined are dropped.
 */
export function readLayoutOptions<T extends object>(options: unknown, spec: LayoutOptionChecks, caller: string): Partial<T> {
  const record = readOptions(options, spec.known, caller);
  if (record.layout !== undefined) record.layout = copyLayout(record.layout, caller, "options.layout");
  return checkRecord<T>(record, spec.checks, caller);
}

const CENTRALIZE_OPTIONS: LayoutOptionChecks = { known: ["layout", "convOnly"], checks: { layout: layoutOrAxisCheck, convOnly: isBoolean } };

/** Validates `centralize`-style options (a `{ unitAxis }` layout copied) and fills in the defaults. */
export function centralizeOptions(options: unknown, caller: string): { layout: Layout; convOnly: boolean } {
  const { layout = "out-first", convOnly = false } = readLayoutOptions<CentralizeOptions>(options, CENTRALIZE_OPTIONS, caller);
  return { layout, convOnly };
}

/**
 * A tensor as GC sees it: a row-major `[outer, units, inner]` view, unit u being every
 * x[o, u, i] (its mean is taken over all o and i).
 */
export interface UnitView {
  outer: number;
  units: number;
  inner: number;
}

/**
 * The axis of `shape` that `layout` names, in [0, rank): out-first 0, out-last rank − 1,
 * `{ unitAxis: k }` k (k + rank when negative). A RangeError naming `caller`, `name` and
 * `tensor` (when given) when k is outside [−rank, rank).
 *
 * @example
 * unitAxisOf([3, 3, 8, 16], { unitAxis: -2 }, "centralize", "options.layout"); // 2
 */
export function unitAxisOf(shape: readonly number[], layout: Layout, caller: string, name: string, tensor?: string): number {
  const rank = shape.length;
  if (layout === "out-first") return 0;
  if (layout === "out-last") return rank - 1;
  const k = layout.unitAxis;
  if (k < -rank || k >= rank) {
    const which = tensor === undefined ? "" : ` (${tensor})`;
    throw new RangeError(`${caller}: ${name}.unitAxis ${k} is out of range for a rank-${rank} tensor${which} (it must be in [${-rank}, ${rank - 1}])`);
  }
  return k < 0 ? k + rank : k;
}

/**
 * The `[outer, units, inner]` view of a tensor of rank ≥ 1 with its units on `layout`'s axis k:
 * `[prod(shape[:k]), shape[k], prod(shape[k+1:])]`. Out-first is `[1, shape[0], rest]`, out-last
 * `[rest, shape[-1], 1]`. Throws as `unitAxisOf` does.
 *
 * @example
 * unitView([3, 3, 8, 16], { unitAxis: -2 }, "centralize", "options.layout"); // { outer: 9, units: 8, inner: 16 }
 */
export function unitView(shape: readonly number[], layout: Layout, caller: string, name: string, tensor?: string): UnitView {
  const axis = unitAxisOf(shape, layout, caller, name, tensor);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, units: shape[axis], inner };
}

/**
 * The layout of `shape`'s axis `axis` in its plainest form: `"out-first"` for axis 0,
 * `"out-last"` for the last, else `{ unitAxis: axis }`. Two layouts with the same plainest form
 * for a shape centralize the same units.
 *
 * @example
 * plainLayout([3, 3, 8, 16], 2); // { unitAxis: 2 } (also what { unitAxis: -2 } names)
 * plainLayout([5, 6], 1);        // "out-last"
 */
export function plainLayout(shape: readonly number[], axis: number): Layout {
  if (axis === 0) return "out-first";
  if (axis === shape.length - 1) return "out-last";
  return Object.freeze({ unitAxis: axis });
}

/**
 * True when `a` and `b` (plain layouts of one shape, see `plainLayout`) are the same.
 *
 * @example
 * sameLayout({ unitAxis: 2 }, plainLayout([3, 3, 8, 16], 2)); // true
 */
export function sameLayout(a: Layout | undefined, b: Layout | undefined): boolean {
  if (a === undefined || b === undefined || typeof a === "string" || typeof b === "string") return a === b;
  return a.unitAxis === b.unitAxis;
}

/** GC applies to rank > 1 tensors; with `convOnly`, to rank > 3 only. */
export function isCentralized(shape: readonly number[], convOnly: boolean): boolean {
  return shape.length > (convOnly ? 3 : 1);
}

/** True when a dim is 0: the tensor holds no values (whatever its other dims). */
export function isEmptyShape(shape: readonly number[]): boolean {
  return shape.includes(0);
}

/**
 * The most float32 values one tensor can have: 32-bit linear memory is at most 65536 pages of
 * 64 KiB (2³² bytes), the first of which hold the module's own data.
 */
export const MAX_TENSOR_VALUES = (2 ** 32 - 65536) / 4;

/**
 * Throws a RangeError naming `caller` and the shape when a tensor of `shape` could never fit in
 * 32-bit linear memory (more than MAX_TENSOR_VALUES values). Empty shapes always fit, whatever
 * their other dims: they hold nothing, and every call returns at once on them.
 *
 * @example
 * checkExtent([65536, 65536], "new Tensor"); // RangeError: new Tensor: shape [65536, 65536] has 4294967296 values, ...
 */
export function checkExtent(shape: readonly number[], caller: string, name = "shape"): void {
  let size = 1;
  for (const dim of shape) size *= dim;
  if (isEmptyShape(shape)) return; // a product with dims past 2¹⁰²⁴ and a 0 would be NaN
  if (size > MAX_TENSOR_VALUES) {
    throw new RangeError(
      `${caller}: ${name} [${shape.join(", ")}] has ${size} values, more than 32-bit linear memory can hold (at most ${MAX_TENSOR_VALUES} float32 values)`,
    );
  }
}
