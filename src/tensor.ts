// A float32 tensor stored in the kernels' linear memory: GC and optimizers run on it in place.
// Its shape, size and address are private: nothing a caller can set reaches a kernel. The package
// recognises its tensors by a private brand (`isTensor`), never by `instanceof` or public fields.
import { copyInto, describe, fillRange, float32Extent, isArrayValue, readOwn, readShape, reading, registerTensorBrand, typedArrayKind, typedArrayLengthOf } from "./args.js";
import { checkShapeMatches, sizeOf } from "./checks.js";
import { AddressIndex } from "./addresses.js";
import "./dispose-symbol.js"; // Symbol.dispose where the engine lacks it, before the class below is defined
import { checkExtent } from "./layout.js";
import type { LinearMemory } from "./memory.js";
import { runtime } from "./runtime.js";
import { track } from "./tidy.js";

interface Allocation {
  memory: LinearMemory;
  ptr: number;
  /** Set when the block goes back to the allocator (dispose, or the tensor was garbage-collected). */
  released?: boolean;
}

/**
 * Every view `Tensor.data` handed out → its tensor's allocation: a view kept past `dispose()` is
 * recognised even after its block went to a new tensor (without holding the tensor alive).
 */
const viewAllocations = new WeakMap<Float32Array, Allocation>();

/** Live tensors' blocks by address (a view of linear memory must lie inside one of these). */
const liveBlocks = new AddressIndex();

// A tensor dropped without dispose() still returns its block when it is garbage-collected (which
// never happens inside a synchronous loop: there, dispose() or tidy() is required).
const leaked = new FinalizationRegistry<Allocation>((allocation) => {
  const { memory, ptr } = allocation;
  allocation.released = true;
  liveBlocks.delete(ptr);
  memory.release(ptr);
  memory.liveTensors--;
});

/** Where a live tensor's values are: set by the constructor, never changed (undefined once disposed). */
export interface TensorBlock {
  readonly ptr: number;
  readonly size: number;
  readonly shape: readonly number[];
}

let brand: (value: unknown) => value is Tensor;
/** Which public function is making a tensor (for its messages): `Tensor.from` or `new Tensor`. */
let making: string | undefined;
let blockOf: (tensor: Tensor) => TensorBlock | undefined;

/**
 * A row-major float32 tensor in linear memory. Its `data` view is re-created whenever memory
 * growth replaced the buffer, so it always reads and writes the live values.
 *
 * @example
 * const w = Tensor.from(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * centralize(w);          // zero-copy, in place
 * w.data;                 // Float32Array [-1, 0, 1, -1, 0, 1]
 * w.dispose();             // or: using w = ... (Symbol.dispose), or make it inside tidy()
 */
export class Tensor {
  readonly #shape: readonly number[];
  readonly #size: number;
  #allocation: Allocation | undefined;
  #view: Float32Array | undefined;

  static {
    brand = (value): value is Tensor => value !== null && typeof value === "object" && #allocation in value;
    blockOf = (tensor) => {
      const allocation = tensor.#allocation;
      return allocation && { ptr: allocation.ptr, size: tensor.#size, shape: tensor.#shape };
    };
    registerTensorBrand(brand, Tensor.prototype);
  }

  /** A zero-filled tensor of the given shape. */
  constructor(shape: readonly number[]) {
    const caller = making ?? "new Tensor";
    const { memory } = runtime(caller);
    this.#shape = readShape(shape, caller);
    checkExtent(this.#shape, caller);
    this.#size = sizeOf(this.#shape);
    const bytes = this.#size * 4;
    const ptr = memory.alloc(bytes, `${caller}: shape [${this.#shape.join(", ")}] needs ${bytes} bytes`);
    this.#allocation = { memory, ptr };
    liveBlocks.set(ptr, bytes);
    memory.liveTensors++;
    leaked.register(this, this.#allocation, this);
    track(this);
    fillRange(memory.f32, 0, ptr >>> 2, (ptr >>> 2) + this.#size);
  }

  /**
   * A tensor holding a copy of `values`: a Float32Array, an array of numbers, or a Tensor (whose
   * shape is the default). `shape` defaults to `[values.length]`. Nested arrays are not flattened.
   */
  static from(values: Float32Array | ArrayLike<number> | Tensor, shape?: readonly number[]): Tensor {
    const caller = "Tensor.from";
    const { memory } = runtime(caller);
    // Read everything the caller gave (their code may run here), then check the copies.
    const source = readValues(values, caller);
    const dims = shape === undefined ? (source.shape ?? [source.values.length]) : readShape(shape, caller);
    checkNumbers(source.values, caller);
    checkShapeMatches(dims, source.values.length, caller, "values");
    // Copied before allocating: a view of linear memory is detached if the allocation grows memory.
    const copy = source.values instanceof Float32Array ? source.values : Float32Array.from(source.values as number[]);
    making = caller;
    let tensor: Tensor;
    try {
      tensor = new Tensor(dims);
    } finally {
      making = undefined;
    }
    copyInto(memory.f32, copy, tensor.#allocation!.ptr >>> 2);
    return tensor;
  }

  /** Dimensions, outermost first (a frozen copy of the shape it was made with). */
  get shape(): readonly number[] {
    return Tensor.#own(this, "shape").#shape;
  }

  /** Number of elements: the product of `shape`. */
  get size(): number {
    return Tensor.#own(this, "size").#size;
  }

  /** The live Float32Array view of the values (re-created after memory growth). */
  get data(): Float32Array {
    const allocation = Tensor.#live(this, "data");
    const buffer = allocation.memory.buffer;
    if (this.#view === undefined || float32Extent(this.#view)!.buffer !== buffer) {
      this.#view = new Float32Array(buffer, allocation.ptr, this.#size);
      viewAllocations.set(this.#view, allocation);
    }
    return this.#view;
  }

  /** Address of the first value in linear memory (16-byte aligned). */
  get byteOffset(): number {
    return Tensor.#live(this, "byteOffset").ptr;
  }

  /** True after `dispose()`. */
  get disposed(): boolean {
    return Tensor.#own(this, "disposed").#allocation === undefined;
  }

  /** Returns the memory to the allocator; the tensor can no longer be used. Idempotent. */
  dispose(): void {
    const allocation = Tensor.#own(this, "dispose").#allocation;
    if (!allocation) return;
    leaked.unregister(this);
    allocation.released = true;
    liveBlocks.delete(allocation.ptr);
    allocation.memory.release(allocation.ptr);
    allocation.memory.liveTensors--;
    this.#allocation = undefined;
    this.#view = undefined;
  }

  /** `dispose()`, for `using t = new Tensor(...)`: freed at the end of the enclosing block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  static #own(receiver: unknown, what: string): Tensor {
    if (!brand(receiver)) throw new TypeError(`Tensor.${what}: called on ${describe(receiver)}, not on a Tensor`);
    return receiver;
  }

  static #live(receiver: unknown, what: string): Allocation {
    const allocation = Tensor.#own(receiver, what).#allocation;
    if (!allocation) throw new TypeError(`Tensor.${what}: the tensor has been disposed`);
    return allocation;
  }
}

/** True for a tensor made by `new Tensor`/`Tensor.from` of this copy of the package (a private brand). */
export function isTensor(value: unknown): value is Tensor {
  return brand(value);
}

/**
 * True for a view `tensor.data` returned whose tensor has since been disposed (or collected): its
 * block may now hold another tensor's values. (A `subarray` of such a view is not recognised.)
 */
export function isStaleView(array: Float32Array): boolean {
  return viewAllocations.get(array)?.released === true;
}

/**
 * True when bytes [start, end) of linear memory lie inside one live tensor's values: a Float32Array
 * view elsewhere (a disposed tensor's data, optimizer state, scratch) is not an operand.
 */
export function insideLiveTensor(start: number, end: number): boolean {
  return liveBlocks.contains(start, end - start);
}

/** A tensor's block: address, size and shape as the allocator and constructor set them; undefined once disposed. */
export function tensorBlock(tensor: Tensor): TensorBlock | undefined {
  return blockOf(tensor);
}

/** What `Tensor.from` read from its `values`: a copy, and the shape when it was a Tensor. */
interface SourceValues {
  values: Float32Array | unknown[];
  shape?: readonly number[];
}

/** Most float32 values 32-bit linear memory can hold. */
const MAX_VALUES = 2 ** 30;

/** Copies `Tensor.from`'s values once: typed arrays by their built-in getters, arrays by own elements. */
function readValues(values: unknown, caller: string): SourceValues {
  if (brand(values)) {
    const block = blockOf(values);
    if (!block) throw new TypeError(`${caller}: values is a disposed Tensor`);
    const at = block.ptr >>> 2;
    return { values: runtime(caller).memory.f32.slice(at, at + block.size), shape: block.shape };
  }
  const kind = typedArrayKind(values);
  if (kind === "Float32Array") {
    const extent = float32Extent(values)!;
    if (isStaleView(extent.array)) throw new TypeError(`${caller}: values is the data of a disposed Tensor (its block may hold another tensor now)`);
    const copy = new Float32Array(extent.length);
    copyInto(copy, extent.array);
    return { values: copy };
  }
  if (kind !== undefined) {
    // Another typed array: its elements (bigints are refused by checkNumbers).
    const typed = values as ArrayLike<unknown>;
    const length = typedArrayLengthOf(values as ArrayBufferView);
    const copy: unknown[] = [];
    for (let i = 0; i < length; i++) copy.push(typed[i]);
    return { values: copy };
  }
  if (values !== null && typeof values === "object") {
    // An array, or an array-like { length, 0: …, 1: … }: its own length and elements, read once.
    const length = reading(caller, "values", () => readOwn(values, "length").value);
    if (typeof length === "number") {
      if (!Number.isSafeInteger(length) || length < 0) {
        throw new RangeError(`${caller}: values.length must be a non-negative integer, got ${length}`);
      }
      if (length > MAX_VALUES) throw new RangeError(`${caller}: values has ${length} elements, more than linear memory can hold`);
      const copy: unknown[] = [];
      reading(caller, "values", () => {
        for (let i = 0; i < length; i++) copy.push(readOwn(values, String(i)).value);
      });
      return { values: copy };
    }
  }
  throw new TypeError(`${caller}: values must be a Float32Array, an array of numbers or a Tensor, got ${describe(values)}`);
}

/** Every element must be a number: nested arrays, strings, bigints are refused (naming the first). */
function checkNumbers(values: Float32Array | unknown[], caller: string): void {
  if (values instanceof Float32Array) return;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value === "number") continue;
    const hint = isArrayValue(value) ? " (nested arrays are not flattened: pass the flat values and the shape, e.g. Tensor.from(rows.flat(), [rows.length, rows[0].length]))" : "";
    throw new TypeError(`${caller}: values[${i}] must be a number, got ${describe(value)}${hint}`);
  }
}

/** The tensor's block, or a TypeError naming `name` when it was disposed. */
export function checkLiveTensor(tensor: Tensor, caller: string, name: string): TensorBlock {
  const block = blockOf(tensor);
  if (!block) throw new TypeError(`${caller}: ${name} is a disposed Tensor`);
  return block;
}
