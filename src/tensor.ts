// A float32 tensor stored in the kernels' linear memory: GC and optimizers run on it in place.
import { disposeSymbol } from "./dispose-symbol.js";
import { checkShape, checkShapeMatches, kindOf, sizeOf } from "./checks.js";
import type { LinearMemory } from "./memory.js";
import { runtime } from "./runtime.js";
import { track } from "./tidy.js";

interface Allocation {
  memory: LinearMemory;
  ptr: number;
}

// A tensor dropped without dispose() still returns its block when it is garbage-collected (which
// never happens inside a synchronous loop: there, dispose() or tidy() is required).
const leaked = new FinalizationRegistry<Allocation>(({ memory, ptr }) => {
  memory.release(ptr);
  memory.liveTensors--;
});

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
  /** Dimensions, outermost first (a frozen copy of the shape it was made with). */
  readonly shape: readonly number[];
  /** Number of elements: the product of `shape`. */
  readonly size: number;
  #allocation: Allocation | undefined;
  #view: Float32Array | undefined;

  /** A zero-filled tensor of the given shape. */
  constructor(shape: readonly number[]) {
    const { memory } = runtime("new Tensor");
    this.shape = checkShape(shape, "new Tensor");
    this.size = sizeOf(this.shape);
    const ptr = memory.alloc(this.size * 4, `new Tensor: shape [${this.shape.join(", ")}] needs ${this.size * 4} bytes`);
    this.#allocation = { memory, ptr };
    memory.liveTensors++;
    leaked.register(this, this.#allocation, this);
    track(this);
    memory.f32.fill(0, ptr >>> 2, (ptr >>> 2) + this.size);
  }

  /** A tensor holding a copy of `values`; `shape` defaults to `[values.length]`. */
  static from(values: Float32Array | ArrayLike<number>, shape?: readonly number[]): Tensor {
    const { memory } = runtime("Tensor.from");
    if (values === null || typeof values !== "object" || typeof values.length !== "number") {
      throw new TypeError(`Tensor.from: values must be a Float32Array or an array of numbers, got ${kindOf(values)}`);
    }
    const dims = shape === undefined ? [values.length] : checkShape(shape, "Tensor.from");
    checkShapeMatches(dims, values.length, "Tensor.from", "values");
    // A view of linear memory (another tensor's data) is detached if the allocation grows memory:
    // its address is recorded first, and its values copied inside linear memory afterwards.
    let source = values;
    let sourceAt = -1;
    if (ArrayBuffer.isView(values) && values.buffer === memory.buffer) {
      if (!memory.owns(values.byteOffset, values.byteLength)) {
        throw new TypeError("Tensor.from: values views linear memory that no live Tensor owns (the data of a disposed Tensor?)");
      }
      if (values instanceof Float32Array) sourceAt = values.byteOffset >>> 2;
      else source = Float32Array.from(values);
    }
    const tensor = new Tensor(dims);
    if (sourceAt >= 0) memory.f32.copyWithin(tensor.byteOffset >>> 2, sourceAt, sourceAt + tensor.size);
    else tensor.data.set(source);
    return tensor;
  }

  /** The live Float32Array view of the values (re-created after memory growth). */
  get data(): Float32Array {
    const { memory, ptr } = this.#live("data");
    const buffer = memory.buffer;
    if (this.#view?.buffer !== buffer) this.#view = new Float32Array(buffer, ptr, this.size);
    return this.#view;
  }

  /** Address of the first value in linear memory (16-byte aligned). */
  get byteOffset(): number {
    return this.#live("byteOffset").ptr;
  }

  /** True after `dispose()`. */
  get disposed(): boolean {
    return this.#allocation === undefined;
  }

  /** Returns the memory to the allocator; the tensor can no longer be used. Idempotent. */
  dispose(): void {
    const allocation = this.#allocation;
    if (!allocation) return;
    leaked.unregister(this);
    allocation.memory.release(allocation.ptr);
    allocation.memory.liveTensors--;
    this.#allocation = undefined;
    this.#view = undefined;
  }

  /** `dispose()`, for `using t = new Tensor(...)`: freed at the end of the enclosing block. */
  [disposeSymbol](): void {
    this.dispose();
  }

  #live(what: string): Allocation {
    if (!this.#allocation) throw new TypeError(`Tensor.${what}: the tensor has been disposed`);
    return this.#allocation;
  }
}

/** The tensor's allocation, or a TypeError naming `name` when it was disposed. */
export function checkLiveTensor(tensor: Tensor, caller: string, name: string): number {
  if (tensor.disposed) throw new TypeError(`${caller}: ${name} is a disposed Tensor`);
  return tensor.byteOffset;
}
