// The `formula` hyperparameter of the rules whose TF.js optimizer differs from torch.optim's
// (Adagrad, RMSprop, Adamax): which of the two a step follows.
import { oneOf, type OptionCheck } from "../checks.js";

/**
 * `"torch"`: torch.optim's formula (the default); `"tfjs"`: tf.train's (TF.js 4.x), epsilon and
 * learning rate where TF.js puts them, so that with `gc: false` the weights follow tf.train's
 * trajectory within float32 rounding.
 */
export type Formula = "torch" | "tfjs";

/** `"torch"` or `"tfjs"`. */
export const formulaCheck: OptionCheck = oneOf("torch", "tfjs");

/** The last βᵗ computed per β, to continue from (steps ask for t, t, …, t + 1). */
const lastPower = new Map<number, { t: number; value: number }>();

/**
 * βᵗ as tf.train keeps its `accBeta`: start at fl(β), then fl(acc · fl(β)) after each step, every
 * product rounded to float32 (1 − β2ᵗ of Adam differs from float64's by 3·10⁻⁵ relative at t = 2).
 * Continues from the last value asked for the same β (from t = 0 after a rewind such as a loaded
 * checkpoint); once the product underflows to 0 it stays 0.
 *
 * @example
 * float32Power(0.9, 2) // Math.fround(Math.fround(0.9) * Math.fround(0.9))
 */
export function float32Power(beta: number, t: number): number {
  const b = Math.fround(beta);
  let last = lastPower.get(b);
  if (last === undefined || last.t > t) lastPower.set(b, (last = { t: 0, value: 1 }));
  while (last.t < t && last.value !== 0) {
    last.value = Math.fround(last.value * b);
    last.t++;
  }
  return last.t < t ? 0 : last.value;
}
