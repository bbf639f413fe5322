// A float32 tensor stored in the kernels' linear memory: GC and optimizers run on it in place.
import { checkShape, checkShapeMatches, kindOf, sizeOf } from "./checks.js";
import { checkExtent } from "./layout.js";
import type { LinearMemory } from "./memory.js";
import { runtime } from "./runtime.js";

interface Allocation {
  memory: LinearMemory;
  ptr: number;
}

// A tensor dropped without dispose() still returns its block when it is garbage-collected.
const leaked = new FinalizationRegistry<Allocation>(({ memory, ptr }) => memory.release(ptr));

/**
 * A row-major float32 tensor in linear memory. Its `data` view is re-created whenever memory
 * growth replaced the buffer, so it always reads and writes the live values.
 *
 * @example
 * const w = Tensor.from(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * centralize(w);          // zero-copy, in place
 * w.data;                 // Float32Array [-1, 0, 1, -1, 0, 1]
 * w.dispose();
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
    checkExtent(this.shape, "new Tensor");
    this.size = sizeOf(this.shape);
    const ptr = allocate(memory, this.size * 4, this.shape);
    this.#allocation = { memory, ptr };
    leaked.register(this, this.#allocation, this);
    this.data.fill(0);
  }

  /** A tensor holding a copy of `values`; `shape` defaults to `[values.length]`. */
  static from(values: Float32Array | ArrayLike<number>, shape?: readonly number[]): Tensor {
    const { memory } = runtime("Tensor.from");
    if (values === null || typeof values !== "object" || typeof values.length !== "number") {
      throw new TypeError(`Tensor.from: values must be a Float32Array or an array of numbers, got ${kindOf(values)}`);
    }
    const dims = shape === undefined ? [values.length] : checkShape(shape, "Tensor.from");
    checkShapeMatches(dims, values.length, "Tensor.from", "values");
    // A view of linear memory (another tensor's data) would be detached if the allocation grows memory.
    const source = ArrayBuffer.isView(values) && values.buffer === memory.buffer ? Float32Array.from(values) : values;
    const tensor = new Tensor(dims);
    tensor.data.set(source);
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
    this.#allocation = undefined;
    this.#view = undefined;
  }

  #live(what: string): Allocation {
    if (!this.#allocation) throw new TypeError(`Tensor.${what}: the tensor has been disposed`);
    return this.#allocation;
  }
}

/** `memory.alloc`, with a RangeError naming the shape when linear memory cannot grow that far. */
function allocate(memory: LinearMemory, bytes: number, shape: readonly number[]): number {
  try {
    return memory.alloc(bytes);
  } catch (error) {
    throw new RangeError(`new Tensor: shape [${shape.join(", ")}] needs ${bytes} bytes, more than linear memory can grow to`, { cause: error });
  }
}

/** The tensor's allocation, or a TypeError naming `name` when it was disposed. */
export function checkLiveTensor(tensor: Tensor, caller: string, name: string): number {
  if (tensor.disposed) throw new TypeError(`${caller}: ${name} is a disposed Tensor`);
  return tensor.byteOffset;
}
