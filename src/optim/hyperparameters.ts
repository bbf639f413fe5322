// Checks of optimizer hyperparameters (options, parameter groups, checkpoints): each throws a
// TypeError (wrong kind) or RangeError (wrong value) naming the argument.
import { isArrayValue } from "../args.js";
import { isBoolean, kindOf, type OptionCheck } from "../checks.js";
import { type Layout, layoutOrAxisCheck } from "../layout.js";

/** Where GC goes: `"gradient"` (centralize g + L2 before the moments), `"update"` (centralize the whole step), or `false`. */
export type GcMode = "gradient" | "update" | false;

/** Hyperparameters every optimizer group has. */
export interface GcHyperparameters {
  /** Default `"gradient"`. */
  gc: GcMode;
  /** Centralize only rank > 3 parameters (the paper's GCC); default `false`. */
  convOnly: boolean;
  /**
   * Which axis holds the output units: `"out-first"` (default), `"out-last"` or `{ unitAxis: k }`
   * (negative from the end; checked against the rank of each parameter GC applies to).
   */
  layout: Layout;
}

/**
 * A check of a number as the kernels see it: they compute in float32, so `test` must hold for the
 * value and for its float32 rounding (1e-46 is a positive double but 0 in float32; 0.99999999 is
 * below 1 but rounds to 1; 1e39 is finite but Infinity in float32).
 */
function numberCheck(test: (x: number) => boolean, what: string): OptionCheck {
  return (value, caller, name) => {
    if (typeof value !== "number") throw new TypeError(`${caller}: ${name} must be a number, got ${kindOf(value)}`);
    if (!test(value)) throw new RangeError(`${caller}: ${name} must be ${what}, got ${value}`);
    const single = Math.fround(value);
    if (!test(single)) {
      throw new RangeError(`${caller}: ${name} must be ${what} in float32, as the kernels compute, got ${value}, which is ${single} in float32`);
    }
  };
}

/** A number ≥ 0, finite in float32 (learning rates, momentum, weight decay). */
export const nonNegative = numberCheck((x) => Number.isFinite(x) && x >= 0, "a finite number ≥ 0");
/** A number > 0, finite, and > 0 in float32 too (eps). */
export const positive = numberCheck((x) => Number.isFinite(x) && x > 0, "a finite number > 0");
/** A number in [0, 1] (dampening). */
export const unitInterval = numberCheck((x) => x >= 0 && x <= 1, "in [0, 1]");
/** A number in [0, 1), below 1 in float32 too, so that 1 − β > 0 in the kernel (each beta). */
export const halfOpenUnitInterval = numberCheck((x) => x >= 0 && x < 1, "in [0, 1)");

/** Adam's betas: two numbers in [0, 1). */
export const betasCheck: OptionCheck = (value, caller, name) => {
  if (!isArrayValue(value) || value.length !== 2) {
    throw new TypeError(`${caller}: ${name} must be an array [beta1, beta2], got ${kindOf(value)}`);
  }
  for (let i = 0; i < 2; i++) halfOpenUnitInterval(value[i], caller, `${name}[${i}]`);
};

/** `"gradient"`, `"update"` or `false`. */
export const gcCheck: OptionCheck = (value, caller, name) => {
  if (value === false) return;
  if (typeof value !== "string") {
    throw new TypeError(`${caller}: ${name} must be "gradient", "update" or false, got ${kindOf(value)}`);
  }
  if (value !== "gradient" && value !== "update") {
    throw new RangeError(`${caller}: ${name} must be "gradient", "update" or false, got "${value}"`);
  }
};

/** Checks of the hyperparameters every optimizer shares. */
export const gcChecks: Record<keyof GcHyperparameters, OptionCheck> = {
  gc: gcCheck,
  convOnly: isBoolean,
  layout: layoutOrAxisCheck,
};

/** Defaults of the shared hyperparameters. */
export const gcDefaults: GcHyperparameters = { gc: "gradient", convOnly: false, layout: "out-first" };

