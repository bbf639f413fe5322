// Gradient clipping with torch.nn.utils' semantics, in place, one call into wasm for the whole list.
import { describe, readOptions } from "./args.js";
import { type GradientEntry, readGradientList } from "./centralize.js";
import { checkDisjoint, checkGradient, type Operand, withOperands } from "./operands.js";
import type { Kernels } from "./loader.js";
import { runtime } from "./runtime.js";

/** Bytes of one entry of the kernels' table (assembly/clip.ts): address and length, i32 each. */
const ENTRY_BYTES = 8;

/** The kernel's code of each accepted norm type. */
const NORM_CODES = new Map<number, number>([
  [2, 2],
  [1, 1],
  [Infinity, 0],
]);

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /** Which norm: 2 (default), 1 or Infinity (the largest |g|). */
  normType?: number;
}

function checkNonNegative(value: unknown, caller: string, name: string): number {
  if (typeof value !== "number") throw new TypeError(`${caller}: ${name} must be a number, got ${describe(value)}`);
  if (!(value >= 0)) throw new RangeError(`${caller}: ${name} must be a number ≥ 0 (Infinity allowed), got ${value}`);
  return value;
}

function normCode(options: unknown, caller: string): number {
  const { normType = 2 } = readOptions(options, ["normType"], caller);
  if (typeof normType !== "number") throw new TypeError(`${caller}: options.normType must be a number, got ${describe(normType)}`);
  const code = NORM_CODES.get(normType);
  if (code === undefined) throw new RangeError(`${caller}: options.normType must be 2, 1 or Infinity, got ${normType}`);
  return code;
}

/**
 * Reads and checks the gradients (every caller value is read before anything is checked); a
 * TypeError when two share memory (one would be scaled twice, or read after it was written).
 */
function checkedGradients(caller: string, gradients: unknown, readRest: () => void): Operand[] {
  const rt = runtime(caller);
  const inputs = readGradientList(caller, gradients);
  readRest();
  const operands = inputs.map((input) => checkGradient(rt, caller, input));
  checkDisjoint(caller, operands, (i) => inputs[i].name, () => true);
  return operands;
}

/** Runs a clip kernel over the operands with their (ptr, length) table; returns its result. */
function runOverTable(caller: string, operands: Operand[], kernel: (kernels: Kernels, table: number, count: number) => number): number {
  const rt = runtime(caller);
  const kernels = rt.kernelsFor(operands.reduce((n, op) => n + op.length, 0));
  let result = 0;
  withOperands(rt, operands, operands.length * ENTRY_BYTES, true, (ptrs, table) => {
    const i32 = rt.memory.i32;
    operands.forEach((op, k) => {
      i32[(table >>> 2) + 2 * k] = ptrs[k];
      i32[(table >>> 2) + 2 * k + 1] = op.length;
    });
    result = kernel(kernels, table, operands.length);
  }, { caller });
  return result;
}

/**
 * Clips the gradients' total norm in place, as `torch.nn.utils.clip_grad_norm_`:
 * `total = (Σ over every value of every gradient |g|ᵖ)^(1/p)` (p = `normType`: 2, 1; Infinity:
 * `max |g|`), accumulated in float64; when `c = maxNorm / (total + 1e-6)` is < 1, every value
 * becomes `g·c` (c rounded to float32). A NaN total gives NaN gradients, as torch's does; an
 * infinite one zeros the finite values. One call into wasm for the whole list; Float32Arrays
 * are copied in and out; gradients must not share memory. Nothing is written when an argument
 * is refused.
 *
 * @example
 * const total = clipGradNorm([w1, b1, { grad: dW2, shape: [10, 64] }], 1.0); // Tensors or { grad, shape }
 * clipGradNorm(grads, 0.5, { normType: Infinity });                             // every |g| ≤ 0.5
 * @returns the total norm before clipping (a float64 number).
 */
export function clipGradNorm(gradients: readonly GradientEntry[], maxNorm: number, options?: ClipGradNormOptions): number {
  const caller = "clipGradNorm";
  let limit = 0;
  let code = 2;
  const operands = checkedGradients(caller, gradients, () => {
    limit = checkNonNegative(maxNorm, caller, "maxNorm");
    code = normCode(options, caller);
  });
  return runOverTable(caller, operands, (kernels, table, count) => kernels.clipGradNorm(table, count, code, limit));
}

/**
 * Clips every gradient value in place to `[−clipValue, clipValue]`, as
 * `torch.nn.utils.clip_grad_value_`: `g ← min(max(g, −c), c)` with c = `clipValue` rounded to
 * float32; NaN stays NaN. One call into wasm for the whole list.
 *
 * @example
 * clipGradValue([w1, { grad: dW2, shape: [10, 64] }], 0.1); // every value now in [−0.1, 0.1]
 * @returns `gradients`.
 */
export function clipGradValue<T extends readonly GradientEntry[]>(gradients: T, clipValue: number): T {
  const caller = "clipGradValue";
  let c = 0;
  const operands = checkedGradients(caller, gradients, () => {
    c = checkNonNegative(clipValue, caller, "clipValue");
  });
  runOverTable(caller, operands, (kernels, table, count) => {
    kernels.clipGradValue(table, count, c);
    return 0;
  });
  return gradients;
}
