// Argument checks shared by the public API. Each throws a TypeError (wrong kind of value) or a
// RangeError (right kind, wrong value) that names the caller and the argument.

/** Validates a shape (an array of non-negative integers) and returns a frozen copy. */
export function checkShape(shape: unknown, caller: string, name = "shape"): readonly number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${caller}: ${name} must be an array of integers, got ${kindOf(shape)}`);
  for (let i = 0; i < shape.length; i++) {
    const dim: unknown = shape[i];
    if (typeof dim !== "number") throw new TypeError(`${caller}: ${name}[${i}] must be a number, got ${kindOf(dim)}`);
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new RangeError(`${caller}: ${name}[${i}] must be a non-negative integer, got ${dim}`);
    }
  }
  return Object.freeze([...shape] as number[]);
}

/** Number of elements of a shape: the product of its dims (1 for a scalar `[]`). */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

/** Validates that `value` is a Float32Array. */
export function checkFloat32Array(value: unknown, caller: string, name: string): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new TypeError(`${caller}: ${name} must be a Float32Array, got ${kindOf(value)}`);
  }
  return value;
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

/** Validates an options object: only known keys, each passing its check. Returns it (or `{}`). */
export function checkOptions<T extends object>(
  options: unknown,
  checks: Record<string, OptionCheck>,
  caller: string,
): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`${caller}: options must be an object, got ${kindOf(options)}`);
  }
  for (const key in options) {
    if (!Object.hasOwn(options, key)) continue;
    const check = Object.hasOwn(checks, key) ? checks[key] : undefined;
    if (!check) {
      throw new TypeError(`${caller}: options.${key} is not an option (known: ${Object.keys(checks).join(", ")})`);
    }
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) check(value, caller, `options.${key}`);
  }
  return options as Partial<T>;
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

/** A short description of a value's kind for error messages. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object";
  return typeof value;
}
