// Where the output-unit axis is, and which tensors GC touches.
import { checkOptions, isBoolean, oneOf } from "./checks.js";

/**
 * `"out-first"`: the output unit is axis 0 (PyTorch, ONNX: dense `[out, in]`, conv `[out, in, kh, kw]`).
 * `"out-last"`: the output unit is the last axis (TF.js, Keras, Flax: dense `[in, out]`, conv `[kh, kw, in, out]`).
 */
export type Layout = "out-first" | "out-last";

/** Options of `centralize` and `centralizeAll`. */
export interface CentralizeOptions {
  /** Which axis holds the output units; default `"out-first"`. */
  layout?: Layout;
  /** Centralize only rank > 3 tensors (convolution kernels: the paper's GCC); default `false`. */
  convOnly?: boolean;
}

export const layoutCheck = oneOf("out-first", "out-last");

/** Validates `centralize`-style options and fills in the defaults. */
export function centralizeOptions(options: unknown, caller: string): Required<CentralizeOptions> {
  const { layout = "out-first", convOnly = false } = checkOptions<CentralizeOptions>(
    options,
    { layout: layoutCheck, convOnly: isBoolean },
    caller,
  );
  return { layout, convOnly };
}

/** A tensor seen as a row-major `[rows, cols]` matrix whose units are its rows or its columns. */
export interface UnitMatrix {
  rows: number;
  cols: number;
  unitsAreRows: boolean;
}

/**
 * The matrix GC works on: out-first `[shape[0], prod(shape[1:])]` with units as rows,
 * out-last `[prod(shape[:-1]), shape[-1]]` with units as columns.
 */
export function unitMatrix(shape: readonly number[], layout: Layout): UnitMatrix {
  const rank = shape.length;
  if (layout === "out-first") {
    let cols = 1;
    for (let i = 1; i < rank; i++) cols *= shape[i];
    return { rows: shape[0], cols, unitsAreRows: true };
  }
  let rows = 1;
  for (let i = 0; i < rank - 1; i++) rows *= shape[i];
  return { rows, cols: shape[rank - 1], unitsAreRows: false };
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
