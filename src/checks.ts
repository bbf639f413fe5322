// Argument checks shared by the public API. Each throws a TypeError (wrong kind of value) or a
// RangeError (right kind, wrong value) that names the caller and the argument. They work on values
// read through args.ts (the trust boundary), never on the caller's objects directly.
import { describe, type Float32Extent, float32Extent, readOptions, readShape } from "./args.js";

/** Validates a shape (an array of non-negative integers, read once) and returns a frozen copy. */
export function checkShape(shape: unknown, caller: string, name = "shape"): readonly number[] {
  return readShape(shape, caller, name);
}

/** Number of elements of a shape: the product of its dims (1 for a scalar `[]`). */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

/** Validates that `value` is a Float32Array (a genuine one: not a Proxy) and reads its extent once. */
export function checkFloat32Array(value: unknown, caller: string, name: string): Float32Extent {
  const extent = float32Extent(value);
  if (extent === undefined) throw new TypeError(`${caller}: ${name} must be a Float32Array, got ${describe(value)}`);
  return extent;
}

/** Validates that `shape` describes exactly `length` elements. */
export function checkShapeMatches(shape: readonly number[], length: number, caller: string, name: string): void {
  const size = sizeOf(shape);
  if (size !== length) {
    throw new RangeError(
      `${caller}: shape [${shape.join(", ")}] has ${size} elements but ${name} has ${length}`,
    );
  }
}

/** A check of one option's value; throws when it is not allowed. */
export type OptionCheck = (value: unknown, caller: string, name: string) => void;

/**
 * Reads and validates an options object: its own enumerable properties, each read once (see
 * args.ts; inherited and non-enumerable keys are ignored), only known keys, each defined value
 * passing its check. Returns the copy (no prototype); `{}` for `undefined`.
 */
export function checkOptions<T extends object>(
  options: unknown,
  checks: Record<string, OptionCheck>,
  caller: string,
): Partial<T> {
  return checkRecord<T>(readOptions(options, Object.keys(checks), caller), checks, caller);
}

/**
 * checkOptions on options already read (readOptions): runs the check of each key it has, in the
 * checks' order, and drops the keys whose value is undefined (so defaults apply).
 */
export function checkRecord<T extends object>(record: Record<string, unknown>, checks: Record<string, OptionCheck>, caller: string): Partial<T> {
  for (const key in checks) {
    const value = record[key];
    if (value !== undefined) checks[key](value, caller, `options.${key}`);
    else if (key in record) delete record[key];
  }
  return record as Partial<T>;
}

/** Option check: a boolean. */
export const isBoolean: OptionCheck = (value, caller, name) => {
  if (typeof value !== "boolean") throw new TypeError(`${caller}: ${name} must be a boolean, got ${kindOf(value)}`);
};

/** Option check factory: one of the listed strings. */
export function oneOf(...allowed: string[]): OptionCheck {
  return (value, caller, name) => {
    if (typeof value !== "string") throw new TypeError(`${caller}: ${name} must be a string, got ${kindOf(value)}`);
    if (!allowed.includes(value)) {
      throw new RangeError(`${caller}: ${name} must be ${allowed.map((a) => `"${a}"`).join(" or ")}, got "${value}"`);
    }
  };
}

/** A short description of a value's kind for error messages (see `describe` in args.ts). */
export const kindOf = describe;
