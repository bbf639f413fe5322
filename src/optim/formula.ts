// The `formula` hyperparameter of the rules whose TF.js optimizer differs from torch.optim's
// (Adagrad, RMSprop, Adamax): which of the two a step follows.
import { oneOf, type OptionCheck } from "../checks.js";

/**
 * `"torch"`: torch.optim's formula (the default); `"tfjs"`: tf.train's (TF.js 4.22), epsilon and
 * learning rate where TF.js puts them, in its float32 operations, so that with `gc: false` the
 * weights follow tf.train's trajectory (bit for bit on the cpu backend in the tests).
 *
 * @example
 * const opt = new RMSprop(params, { lr: 1e-3, alpha: 0.9, eps: 1e-7, formula: "tfjs" }); // tf.train.rmsprop(1e-3)
 */
export type Formula = "torch" | "tfjs";

/**
 * The check of `formula`: `"torch"` or `"tfjs"`, else a TypeError (not a string) or RangeError
 * naming the caller and the option.
 *
 * @example
 * formulaCheck("keras", "new Adagrad", "options.formula");
 * // RangeError: new Adagrad: options.formula must be "torch" or "tfjs", got "keras"
 */
export const formulaCheck: OptionCheck = oneOf("torch", "tfjs");

/** Steps between the stored products of `float32Power`. */
const STRIDE = 1024;

/** Per β: βᵗ for t = 0, STRIDE, 2·STRIDE, … (as far as asked), and the last βᵗ asked for. */
const powers = new Map<number, { every: number[]; t: number; value: number }>();

/** fl(fl(β)·…) n more times from `value`, stopping at 0 (it stays 0). */
function multiply(value: number, b: number, n: number): number {
  for (let k = 0; k < n && value !== 0; k++) value = Math.fround(value * b);
  return value;
}

/**
 * βᵗ as tf.train keeps its `accBeta`: start at fl(β), then fl(acc · fl(β)) after each step, every
 * product rounded to float32 (1 − β2ᵗ of Adam differs from float64's by 3·10⁻⁵ relative at t = 2).
 * O(1) per call as steps advance (from the last t asked for the same β), at most STRIDE products
 * otherwise (from the stored βᵗ at a multiple of STRIDE: a rewind to a checkpoint, another optimizer).
 *
 * @example
 * float32Power(0.9, 2) // Math.fround(Math.fround(0.9) * Math.fround(0.9))
 */
export function float32Power(beta: number, t: number): number {
  const b = Math.fround(beta);
  let entry = powers.get(b);
  if (entry === undefined) powers.set(b, (entry = { every: [1], t: 0, value: 1 }));
  if (t < entry.t || t - entry.t >= STRIDE) {
    const k = Math.floor(t / STRIDE);
    while (entry.every.length <= k) entry.every.push(multiply(entry.every[entry.every.length - 1], b, STRIDE));
    entry.t = k * STRIDE;
    entry.value = entry.every[k];
  }
  entry.value = multiply(entry.value, b, t - entry.t);
  entry.t = t;
  return entry.value;
}
