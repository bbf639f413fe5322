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
