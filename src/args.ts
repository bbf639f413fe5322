// The trust boundary: every value a caller passes in is turned into plain local data here, once,
// before anything is checked. After a public function has read its arguments through this file,
// no caller code (getters, Proxy traps, iterators, own `length`/`map`/`set` properties) runs again
// until it returns, so what was checked is what the kernels get.
//
// The rules:
// - Objects (options, parameter groups, `{ grad, shape }`, params, checkpoints) are read as their
//   own enumerable properties, each exactly once (an own getter runs once, here); inherited keys
//   (`Object.prototype.lr = 0.1`) and non-enumerable ones are ignored. The copy has no prototype.
// - Arrays are copied element by element from their own properties; only the copy is used.
// - Typed arrays are read through the built-in %TypedArray% getters, which no own property, subclass
//   or Proxy can change; a Proxy is not a typed array.
// - Built-ins are captured when this module loads, so later changes to them do not reach the kernels.

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getter = (target: object, key: PropertyKey) =>
  Object.getOwnPropertyDescriptor(target, key)!.get as (this: unknown) => unknown;
const typedArrayTag = getter(TypedArrayPrototype, Symbol.toStringTag) as (this: unknown) => string | undefined;
const typedArrayLength = getter(TypedArrayPrototype, "length") as (this: unknown) => number;
const typedArrayByteOffset = getter(TypedArrayPrototype, "byteOffset") as (this: unknown) => number;
const typedArrayBuffer = getter(TypedArrayPrototype, "buffer") as (this: unknown) => ArrayBufferLike;
const typedArraySet = (TypedArrayPrototype as { set: (this: unknown, source: ArrayLike<number>, offset?: number) => void }).set;
const typedArrayFill = (TypedArrayPrototype as { fill: (this: unknown, value: number, start?: number, end?: number) => void }).fill;
const { apply } = Reflect;
const { getOwnPropertyDescriptor, ownKeys } = Reflect;
// Own string keys, as Reflect.ownKeys filtered (one ownKeys trap on a Proxy), ~10× cheaper in V8.
const { getOwnPropertyNames } = Object;
const { isArray } = Array;
const { isSafeInteger } = Number;
const { create, freeze, getPrototypeOf, hasOwn } = Object;
const ArrayBufferPrototype = ArrayBuffer.prototype;
const arrayBufferDetached = Object.getOwnPropertyDescriptor(ArrayBufferPrototype, "detached")?.get;
const arrayBufferByteLength = getter(ArrayBufferPrototype, "byteLength") as (this: unknown) => number;
const iteratorSymbol = Symbol.iterator;

/** The name of a typed array's kind (`"Float32Array"`, …), or undefined for anything else (a Proxy included). */
export function typedArrayKind(value: unknown): string | undefined {
  return apply(typedArrayTag, value, []);
}

/** A Float32Array's extent, read through the built-in getters (no own property or Proxy can lie). */
export interface Float32Extent {
  array: Float32Array;
  buffer: ArrayBufferLike;
  byteOffset: number;
  /** Number of float32 values; 0 when the buffer was detached or shrunk below the view. */
  length: number;
}

/** Reads a genuine Float32Array's buffer, offset and length; undefined when `value` is not one. */
export function float32Extent(value: unknown): Float32Extent | undefined {
  if (typedArrayKind(value) !== "Float32Array") return undefined;
  return {
    array: value as Float32Array,
    buffer: apply(typedArrayBuffer, value, []),
    byteOffset: apply(typedArrayByteOffset, value, []),
    length: apply(typedArrayLength, value, []),
  };
}

const Float32ArrayConstructor = Float32Array;

/** A new Float32Array over exactly an extent's values (not length-tracking; empty when there are none). */
export function fixedView(extent: Float32Extent): Float32Array {
  if (extent.length === 0) return new Float32ArrayConstructor(0);
  if (!canChangeLength(extent.buffer)) return extent.array; // its length cannot change without caller code
  return new Float32ArrayConstructor(extent.buffer, extent.byteOffset, extent.length);
}

/** Length of a genuine typed array (built-in getter). */
export function typedArrayLengthOf(value: ArrayBufferView): number {
  return apply(typedArrayLength, value, []);
}

/** `target.set(source, offset)` with the built-in method (no own `set` on either can run). */
export function copyInto(target: Float32Array, source: Float32Array, offset = 0): void {
  apply(typedArraySet, target, [source, offset]);
}

/** `target.fill(value, start, end)` with the built-in method. */
export function fillRange(target: Float32Array, value: number, start: number, end: number): void {
  apply(typedArrayFill, target, [value, start, end]);
}

const arrayBufferResizable = Object.getOwnPropertyDescriptor(ArrayBufferPrototype, "resizable")?.get;
const sharedArrayBufferGrowable =
  typeof SharedArrayBuffer === "function" ? Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, "growable")?.get : undefined;

/** True for a resizable ArrayBuffer or a growable SharedArrayBuffer (a length-tracking view's length can change). */
function canChangeLength(buffer: ArrayBufferLike): boolean {
  try {
    return arrayBufferResizable ? (apply(arrayBufferResizable, buffer, []) as boolean) : false;
  } catch {
    // not an ArrayBuffer: a SharedArrayBuffer
  }
  try {
    return sharedArrayBufferGrowable ? (apply(sharedArrayBufferGrowable, buffer, []) as boolean) : false;
  } catch {
    return true; // unknown: treat as changeable (a fixed view is always safe)
  }
}

/** True when the ArrayBuffer was detached (a view of linear memory after memory grew). */
export function isDetached(buffer: ArrayBufferLike): boolean {
  if (arrayBufferDetached && typedArrayKind(buffer) === undefined && getPrototypeOf(buffer) === ArrayBufferPrototype) {
    return apply(arrayBufferDetached, buffer, []) as boolean;
  }
  try {
    return apply(arrayBufferByteLength, buffer, []) === 0;
  } catch {
    return false; // a SharedArrayBuffer: never detached
  }
}

/** `Array.isArray`, false for a revoked Proxy instead of throwing. */
export function isArrayValue(value: unknown): value is unknown[] {
  try {
    return isArray(value);
  } catch {
    return false;
  }
}

/** An own property's value, read once: a data property's value, or what its getter returns. */
export function readOwn(target: object, key: PropertyKey): { found: boolean; value: unknown } {
  const descriptor = getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined) return { found: false, value: undefined };
  if ("value" in descriptor) return { found: true, value: descriptor.value };
  return { found: true, value: descriptor.get === undefined ? undefined : apply(descriptor.get, target, []) };
}

/**
 * Runs `read` (which may run the caller's code: getters, Proxy traps, iterators); anything it
 * throws (the caller's own error, or the engine's for a revoked Proxy) becomes a TypeError naming
 * the function and the argument, with the original as its `cause`.
 */
export function reading<T>(caller: string, name: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw couldNotRead(caller, name, error);
  }
}

/** The TypeError for a caller's value whose reading threw `error` (a Proxy trap, a getter). */
function couldNotRead(caller: string, name: string, error: unknown): TypeError {
  const message = error instanceof Error ? error.message : describe(error);
  return new TypeError(`${caller}: ${name} could not be read: ${message}`, { cause: error });
}

/** A record read from a caller's object: own enumerable string keys only, no prototype. */
export type Record0 = Record<string, unknown>;

/**
 * Reads a caller's object: every own enumerable string-keyed property, each exactly once (an own
 * getter is called once, here), into an object with no prototype. Inherited and non-enumerable
 * properties, and symbol keys, are ignored. `undefined` reads as `{}` when `optional`.
 */
export function readRecord(value: unknown, caller: string, name: string, optional = true): Record0 {
  return readKnown(value, caller, name, optional, undefined).record;
}

/**
 * readRecord, also returning the first key read that is not in `known` (when `known` is given),
 * so a caller can say so without walking the record again.
 */
function readKnown(value: unknown, caller: string, name: string, optional: boolean, known: readonly string[] | undefined): { record: Record0; unknown: string | undefined } {
  const record = create(null) as Record0;
  let unknown: string | undefined;
  if (value === undefined && optional) return { record, unknown };
  if (value === null || typeof value !== "object" || isArrayValue(value)) {
    throw new TypeError(`${caller}: ${name} must be an object, got ${describe(value)}`);
  }
  try {
    const keys = getOwnPropertyNames(value);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const descriptor = getOwnPropertyDescriptor(value, key);
      if (descriptor === undefined || !descriptor.enumerable) continue;
      record[key] = "value" in descriptor ? descriptor.value : descriptor.get === undefined ? undefined : apply(descriptor.get, value, []);
      if (known !== undefined && unknown === undefined && !known.includes(key)) unknown = key;
    }
  } catch (error) {
    throw couldNotRead(caller, name, error);
  }
  return { record, unknown };
}

/**
 * Reads a small data object (a layout's `{ unitAxis }`) into a frozen copy with no prototype:
 * every own key must be a string naming an enumerable data property (a getter, a setter, a
 * symbol key or a non-enumerable property is a TypeError naming it), each read once.
 *
 * @example
 * readDataRecord({ unitAxis: 1 }, "centralize", "options.layout"); // frozen { unitAxis: 1 }, no prototype
 */
export function readDataRecord(value: object, caller: string, name: string): Readonly<Record0> {
  const record = create(null) as Record0;
  // The Proxy traps a caller may have set run here, once; the checks below use what they returned.
  const fields = reading(caller, name, () =>
    ownKeys(value).map((key) => [key, getOwnPropertyDescriptor(value, key)] as const),
  );
  for (const [key, descriptor] of fields) {
    if (descriptor === undefined) continue;
    if (typeof key !== "string") throw new TypeError(`${caller}: ${name} has a symbol key (${String(key)}); only unitAxis is allowed`);
    const field = `${name}.${key}`;
    if (!("value" in descriptor)) throw new TypeError(`${caller}: ${field} must be a plain data property, got a getter or setter`);
    if (!descriptor.enumerable) throw new TypeError(`${caller}: ${field} must be an enumerable own property`);
    record[key] = descriptor.value;
  }
  return freeze(record);
}

/**
 * Reads only `keys` of a caller's object, with `readRecord`'s rules (own enumerable properties,
 * each read once): cheaper than `readRecord` on a hot path (every step reads every parameter).
 */
export function readKeys(value: object, keys: readonly string[], caller: string, name: string): Record0 {
  const record = create(null) as Record0;
  return reading(caller, name, () => {
    for (const key of keys) {
      const descriptor = getOwnPropertyDescriptor(value, key);
      if (descriptor === undefined || !descriptor.enumerable) continue;
      record[key] = "value" in descriptor ? descriptor.value : descriptor.get === undefined ? undefined : apply(descriptor.get, value, []);
    }
    return record;
  });
}

/**
 * Reads an options object against its known keys: `readRecord`, then a TypeError for an own key
 * that is not an option. Values are not checked here.
 */
export function readOptions(value: unknown, known: readonly string[], caller: string, name = "options", what = "an option"): Record0 {
  const { record, unknown } = readKnown(value, caller, name, true, known);
  if (unknown !== undefined) throw new TypeError(`${caller}: ${name}.${unknown} is not ${what} (known: ${known.join(", ")})`);
  return record;
}

/** True when `record` (from `readRecord`) has `key` (with any value, undefined included). */
export function has(record: Record0, key: string): boolean {
  return key in record;
}

/** Largest length accepted for a list read from a caller (more than any real shape or model). */
const MAX_LIST = 2 ** 32 - 1;

/**
 * Copies an array's elements (own properties, each read once) into a fresh array. A Proxy around
 * an array is read through its traps, once. Returns undefined when `value` is not an array.
 */
export function copyArray(value: unknown, caller: string, name: string): unknown[] | undefined {
  if (!isArrayValue(value)) return undefined;
  return reading(caller, name, () => {
    // An array's length is an own data property (a Proxy's get trap runs once); each element is
    // read once, own properties only (a hole reads as undefined, whatever a prototype holds).
    const length = (value as unknown[]).length;
    if (typeof length !== "number" || !isSafeInteger(length) || length < 0 || length > MAX_LIST) return undefined;
    const copy: unknown[] = new Array(length);
    for (let i = 0; i < length; i++) copy[i] = hasOwn(value, i) ? (value as unknown[])[i] : undefined;
    return copy;
  });
}

/**
 * Copies a list given as an array, or as any iterable (a Set, a generator) when `iterables`,
 * into a fresh array. Returns undefined when `value` is neither.
 */
export function copyList(value: unknown, iterables: boolean, caller: string, name: string): unknown[] | undefined {
  const copy = copyArray(value, caller, name);
  if (copy !== undefined || !iterables) return copy;
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  if (typedArrayKind(value) !== undefined) return undefined;
  return reading(caller, name, () => {
    const iterate = (value as { [iteratorSymbol]?: unknown })[iteratorSymbol];
    if (typeof iterate !== "function") return undefined;
    const out: unknown[] = [];
    const iterator = apply(iterate, value, []) as Iterator<unknown>;
    const next = iterator.next;
    for (;;) {
      const step = apply(next, iterator, []) as IteratorResult<unknown>;
      if (step.done) return out;
      out.push(step.value);
    }
  });
}

/**
 * Validates a shape, read once from the caller's array: non-negative safe integers. Returns a
 * frozen copy; the caller's array is never read again.
 */
export function readShape(shape: unknown, caller: string, name = "shape"): readonly number[] {
  const dims = copyArray(shape, caller, name);
  if (dims === undefined) throw new TypeError(`${caller}: ${name} must be an array of integers, got ${describe(shape)}`);
  for (let i = 0; i < dims.length; i++) {
    const dim = dims[i];
    if (typeof dim !== "number") throw new TypeError(`${caller}: ${name}[${i}] must be a number, got ${describe(dim)}`);
    if (!isSafeInteger(dim) || dim < 0) {
      throw new RangeError(`${caller}: ${name}[${i}] must be a non-negative integer, got ${dim}`);
    }
  }
  return freeze(dims as number[]);
}

// Recognising this package's Tensor is tensor.ts's job (a private brand); it registers the test
// here so that `describe` can name objects that only look like one.
let isTensorValue: (value: unknown) => boolean = () => false;
let tensorPrototype: object | undefined;

/** Called once by tensor.ts. */
export function registerTensorBrand(test: (value: unknown) => boolean, prototype: object): void {
  isTensorValue = test;
  tensorPrototype = prototype;
}

function inherits(value: object, prototype: object): boolean {
  try {
    for (let p = getPrototypeOf(value); p !== null; p = getPrototypeOf(p)) if (p === prototype) return true;
  } catch {
    // a revoked Proxy
  }
  return false;
}

/** Duck type of a TF.js tensor (tfjs-core's own `instanceof` is a duck type too). */
function looksLikeTfTensor(value: object): boolean {
  try {
    const t = value as { dataSync?: unknown; rank?: unknown; dtype?: unknown };
    return typeof t.dataSync === "function" && typeof t.rank === "number" && typeof t.dtype === "string";
  } catch {
    return false;
  }
}

/**
 * A short description of a value's kind for error messages, in the package's words. Used only on
 * the way to a throw (it may read properties of `value`).
 */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return `bigint ${value}n`;
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  if (typeof value !== "object") return typeof value;
  const kind = typedArrayKind(value);
  if (kind !== undefined) return kind;
  if (isTensorValue(value)) return "Tensor";
  if (tensorPrototype !== undefined && inherits(value, tensorPrototype)) {
    return "an object posing as a Tensor (a Proxy, or Object.create(Tensor.prototype)): only tensors made by new Tensor or Tensor.from are accepted";
  }
  if (inherits(value, TypedArrayPrototype)) {
    return "an object posing as a typed array (a Proxy around one, or a subclass' prototype on another object): pass the typed array itself";
  }
  if (looksLikeTfTensor(value)) {
    return "a TF.js tensor (for TF.js tensors use centralizeTensor or withGradientCentralization from gradient-centralization/tfjs)";
  }
  if (isArrayValue(value)) return "an array";
  try {
    if (typeof (value as { next?: unknown }).next === "function" && iteratorSymbol in value) return "an iterator";
    const name = (getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    if (typeof name === "string" && name !== "") return name;
  } catch {
    // a revoked Proxy or a throwing getter: say nothing more
  }
  return "an object";
}
