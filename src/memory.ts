// Linear memory: an allocator over the module's memory, and views that are re-created whenever
// memory growth has replaced `memory.buffer`. The one place that knows it.
//
// Free blocks sit in size-segregated lists, two levels as in TLSF (Masmano et al., 2004): a power
// of two (first level) split into 16 ranges (second level), with a bitmap of the non-empty lists,
// so finding a block that fits takes a few bit operations, whatever the number of blocks. Free
// neighbours are found through maps by start and by end address and merged on release. Allocated
// blocks are kept by address in a balanced tree, so `owns` is O(log n) too.
import { AddressIndex, AddressMap } from "./addresses.js";

const PAGE_BYTES = 65536;
/** wasm32 linear memory can never hold more pages than this (4 GiB). */
const MAX_PAGES = 65536;
const ALIGN = 16;
const SECOND_LEVEL_BITS = 4;
const SECOND_LEVEL = 1 << SECOND_LEVEL_BITS;
/** Blocks of a list that fits only sometimes (sizes just below a list's upper end) tried before growing. */
const NEAR_FIT_TRIES = 8;

const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
/** Index of the lowest set bit of a non-zero 32-bit mask. */
const lowestBit = (mask: number) => 31 - Math.clz32(mask & -mask);
/** Index of the highest set bit of a non-zero 32-bit mask. */
const highestBit = (mask: number) => 31 - Math.clz32(mask);

/** The list a free block of `size` bytes (16 ≤ size < 2³²) belongs to: sizes in [2^f·(1 + s/16), 2^f·(1 + (s+1)/16)). */
function listOf(size: number): number {
  const first = highestBit(size);
  const second = Math.floor(size / 2 ** (first - SECOND_LEVEL_BITS)) - SECOND_LEVEL;
  return first * SECOND_LEVEL + second;
}

/** A free block, linked into the list of its size. */
interface FreeBlock {
  ptr: number;
  bytes: number;
  prev: FreeBlock | undefined;
  next: FreeBlock | undefined;
}

/** Allocated, free and total bytes of linear memory (see `memory()`). */
export interface MemoryUse {
  bytes: number;
  freeBytes: number;
  largestFreeBlock: number;
  memoryBytes: number;
}

/** Allocator and live typed-array views over one `WebAssembly.Memory`. */
export class LinearMemory {
  readonly memory: WebAssembly.Memory;
  /** First byte the allocator manages (16-aligned, after the module's static data). */
  readonly heapStart: number;
  /** Live Tensors over this memory (kept by Tensor), for `memory()` and out-of-memory messages. */
  liveTensors = 0;
  /** Free blocks: start → size, and end → start (to find the free neighbours of a released block). */
  private readonly freeByStart = new AddressMap<FreeBlock>();
  private readonly freeByEnd = new AddressMap<FreeBlock>();
  /** First free block of each size list (`listOf`), doubly linked. */
  private readonly lists: (FreeBlock | undefined)[] = new Array(32 * SECOND_LEVEL).fill(undefined);
  /** Bit f set: some list of first level f is non-empty. */
  private firstLevelMask = 0;
  /** Per first level, bit s set: list (f, s) is non-empty. */
  private readonly secondLevelMasks = new Array<number>(32).fill(0);
  /** Size of every allocated block, by address, and the same blocks ordered by address. */
  private readonly used = new AddressIndex();
  private allocated = 0;
  private freeTotal = 0;
  private cachedBuffer: ArrayBuffer | undefined;
  /**
   * Every SharedArrayBuffer `memory.buffer` has been (a shared memory's buffer is a new object
   * after each growth, and the older ones stay valid views of the same bytes, never detached).
   */
  private readonly sharedBuffers = new WeakSet<ArrayBufferLike>();
  private cachedF32 = new Float32Array(0);
  private cachedF64 = new Float64Array(0);
  private cachedI32 = new Int32Array(0);
  /** A block reused by every call that needs temporary room, so hot paths do not allocate. */
  private staging = { ptr: 0, bytes: 0 };

  /** Pages this memory may grow to (a shared memory's declared maximum, else 4 GiB). */
  readonly maxPages: number;

  constructor(memory: WebAssembly.Memory, heapBase: number, maxPages = MAX_PAGES) {
    this.memory = memory;
    this.maxPages = maxPages;
    this.heapStart = alignUp(heapBase);
    if (memory.buffer.byteLength <= this.heapStart) {
      memory.grow(Math.ceil((this.heapStart + 1 - memory.buffer.byteLength) / PAGE_BYTES));
    }
    this.addFree(this.heapStart, memory.buffer.byteLength - this.heapStart);
  }

  /** Total size of linear memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Allocates `bytes` (rounded up to 16, at least 16) at a 16-byte aligned address, growing memory
   * when no free block fits. When memory cannot grow, throws a RangeError (starting with `caller`)
   * that says what holds the memory, and nothing has changed.
   */
  alloc(bytes: number, caller = "alloc"): number {
    if (!(bytes >= 0)) throw new RangeError(`${caller}: cannot allocate ${bytes} bytes`);
    const size = Math.max(ALIGN, alignUp(bytes));
    const block = (size < 2 ** 32 ? this.findFree(size) : undefined) ?? this.grow(size, caller);
    const { ptr, bytes: blockBytes } = block;
    this.removeFree(block);
    if (blockBytes > size) this.addFree(ptr + size, blockBytes - size);
    this.used.set(ptr, size);
    this.allocated += size;
    return ptr;
  }

  /** Returns a block from `alloc` to the free lists, merging it with free neighbours. */
  release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new RangeError(`release: ${ptr} is not an allocated block`);
    this.used.delete(ptr);
    this.allocated -= size;
    let start = ptr;
    let bytes = size;
    const before = this.freeByEnd.get(ptr);
    if (before) {
      this.removeFree(before);
      start = before.ptr;
      bytes += before.bytes;
    }
    const after = this.freeByStart.get(ptr + size);
    if (after) {
      this.removeFree(after);
      bytes += after.bytes;
    }
    this.addFree(start, bytes);
  }

  /**
   * A temporary block of at least `bytes`, valid until the next call to `stagingBlock`; it is
   * kept between calls and only replaced when a larger one is needed. When no larger block can
   * be had, throws and the staging block stays as it was (size and address may differ; it holds
   * nothing between calls).
   */
  stagingBlock(bytes: number, caller = "stagingBlock"): number {
    const old = this.staging;
    if (bytes <= old.bytes) return old.ptr;
    // Released first, so the new block can take its room; forgotten until replaced, so no call
    // can get a block that was handed back.
    this.staging = { ptr: 0, bytes: 0 };
    if (old.bytes > 0) this.release(old.ptr);
    const sizes = [alignUp(Math.max(bytes, old.bytes * 2)), alignUp(bytes)];
    let failure: unknown;
    for (const size of sizes) {
      try {
        this.staging = { ptr: this.alloc(size, caller), bytes: size };
        return this.staging.ptr;
      } catch (error) {
        failure ??= error;
      }
    }
    // The released block is still free (merged, maybe): a block of its size fits again.
    if (old.bytes > 0) {
      try {
        this.staging = { ptr: this.alloc(old.bytes, caller), bytes: old.bytes };
      } catch {
        // (only when alloc itself is broken, as in a test's mock: no staging block then)
      }
    }
    throw failure;
  }

  private refresh(): ArrayBuffer {
    const buffer = this.memory.buffer;
    if (buffer !== this.cachedBuffer) {
      this.cachedBuffer = buffer;
      if (typeof SharedArrayBuffer === "function" && buffer instanceof SharedArrayBuffer) this.sharedBuffers.add(buffer);
      this.cachedF32 = new Float32Array(buffer);
      this.cachedF64 = new Float64Array(buffer);
      this.cachedI32 = new Int32Array(buffer);
    }
    return buffer;
  }

  /** The current `memory.buffer` (the one every live view must be over). */
  get buffer(): ArrayBuffer {
    return this.refresh();
  }

  /**
   * True for this memory's current buffer, and for the buffers a shared memory had before it grew
   * (views over them still see linear memory, at the same addresses).
   */
  isOwnBuffer(buffer: ArrayBufferLike): boolean {
    return buffer === this.buffer || this.sharedBuffers.has(buffer);
  }

  /** Float32 view of all memory, valid until memory next grows. */
  get f32(): Float32Array {
    this.refresh();
    return this.cachedF32;
  }

  /** Float64 view of all memory, valid until memory next grows. */
  get f64(): Float64Array {
    this.refresh();
    return this.cachedF64;
  }

  /** Int32 view of all memory, valid until memory next grows. */
  get i32(): Int32Array {
    this.refresh();
    return this.cachedI32;
  }

  /** True when [ptr, ptr + bytes) lies inside one allocated block. O(log n). */
  owns(ptr: number, bytes: number): boolean {
    return this.used.contains(ptr, bytes);
  }

  /** Bytes currently allocated (staging included). */
  get allocatedBytes(): number {
    return this.allocated;
  }

  /** Allocated, free and total bytes, and the largest free block. */
  use(): MemoryUse {
    return { bytes: this.allocated, freeBytes: this.freeTotal, largestFreeBlock: this.largestFree(), memoryBytes: this.byteLength };
  }

  /** The free blocks in address order (for tests and diagnostics; O(n log n)). */
  freeBlocks(): { ptr: number; bytes: number }[] {
    return [...this.freeByStart.entries()].map(([ptr, { bytes }]) => ({ ptr, bytes })).sort((a, b) => a.ptr - b.ptr);
  }

  /** A free block of at least `size` bytes, or undefined. */
  private findFree(size: number): FreeBlock | undefined {
    // Good fit: the first non-empty list whose every block is ≥ size (size rounded up to a list boundary).
    const first = highestBit(size);
    const rounded = size + 2 ** (first - SECOND_LEVEL_BITS) - 1;
    if (rounded < 2 ** 32) {
      const list = this.firstListFrom(listOf(rounded));
      if (list >= 0) return this.lists[list];
    }
    // Size's own list holds blocks both smaller and larger than size: a few are tried here,
    // all of them only when memory cannot grow (`grow`).
    return this.fitIn(listOf(size), size, NEAR_FIT_TRIES);
  }

  /** The first non-empty list at or after `list` (lists are ordered by size), or −1. */
  private firstListFrom(list: number): number {
    let first = list >>> SECOND_LEVEL_BITS;
    let second = this.secondLevelMasks[first] & (~0 << (list & (SECOND_LEVEL - 1)));
    if (second === 0) {
      const above = first >= 31 ? 0 : this.firstLevelMask & (~0 << (first + 1));
      if (above === 0) return -1;
      first = lowestBit(above);
      second = this.secondLevelMasks[first];
    }
    return first * SECOND_LEVEL + lowestBit(second);
  }

  /** The first of at most `tries` blocks of `list` that holds `size` bytes. */
  private fitIn(list: number, size: number, tries: number): FreeBlock | undefined {
    for (let block = this.lists[list]; block && tries > 0; block = block.next, tries--) {
      if (block.bytes >= size) return block;
    }
    return undefined;
  }

  /** Grows memory so that a free block of `size` bytes ends it; returns its start. */
  private grow(size: number, caller: string): FreeBlock {
    const end = this.memory.buffer.byteLength;
    const tailBlock = this.freeByEnd.get(end);
    const tail = tailBlock?.bytes ?? 0;
    const pages = Math.ceil((size - tail) / PAGE_BYTES);
    let failure: unknown;
    if (end / PAGE_BYTES + pages <= this.maxPages) {
      try {
        this.memory.grow(pages);
      } catch (error) {
        failure = error;
      }
    } else failure = new RangeError(`${end / PAGE_BYTES + pages} pages is more than the ${this.maxPages} this linear memory may have`);
    if (failure !== undefined) {
      // Last resort before failing: every block of size's own list.
      const fit = size < 2 ** 32 ? this.fitIn(listOf(size), size, Infinity) : undefined;
      if (fit !== undefined) return fit;
      throw new RangeError(this.exhausted(size, caller), { cause: failure });
    }
    const added = this.memory.buffer.byteLength - end;
    if (!tailBlock) return this.addFree(end, added);
    this.removeFree(tailBlock);
    return this.addFree(tailBlock.ptr, tail + added);
  }

  /** Why an allocation of `size` bytes failed, and what the caller can do. */
  private exhausted(size: number, caller: string): string {
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    return (
      `${caller}: linear memory cannot grow to hold ${size} more bytes (it has ${mib(this.byteLength)}, at most ${(this.maxPages * PAGE_BYTES) / 2 ** 20} MiB; ` +
      `${mib(this.allocated)} held by ${this.liveTensors} live tensor(s), optimizer state and staging, ` +
      `${mib(this.freeTotal)} free in pieces of at most ${mib(this.largestFree())}). ` +
      `Free what you no longer need: tensor.dispose() and optimizer.dispose() (or \`using\`), or make the tensors of ` +
      `each iteration inside tidy(() => ...), which disposes them; dropped tensors are freed only by the garbage collector`
    );
  }

  private largestFree(): number {
    if (this.firstLevelMask === 0) return 0;
    const first = highestBit(this.firstLevelMask);
    let largest = 0;
    for (let block = this.lists[first * SECOND_LEVEL + highestBit(this.secondLevelMasks[first])]; block; block = block.next) {
      largest = Math.max(largest, block.bytes);
    }
    return largest;
  }

  /** Adds the free block [ptr, ptr + bytes) (bytes > 0) to its list and maps. */
  private addFree(ptr: number, bytes: number): FreeBlock {
    const list = listOf(bytes);
    const head = this.lists[list];
    const block: FreeBlock = { ptr, bytes, prev: undefined, next: head };
    if (head) head.prev = block;
    this.lists[list] = block;
    this.freeByStart.set(ptr, block);
    this.freeByEnd.set(ptr + bytes, block);
    this.freeTotal += bytes;
    const first = list >>> SECOND_LEVEL_BITS;
    this.secondLevelMasks[first] |= 1 << (list & (SECOND_LEVEL - 1));
    this.firstLevelMask |= 1 << first;
    return block;
  }

  private removeFree(block: FreeBlock): void {
    const { ptr, bytes, prev, next } = block;
    this.freeByStart.delete(ptr);
    this.freeByEnd.delete(ptr + bytes);
    this.freeTotal -= bytes;
    const list = listOf(bytes);
    if (next) next.prev = prev;
    if (prev) prev.next = next;
    else this.lists[list] = next;
    if (this.lists[list]) return;
    const first = list >>> SECOND_LEVEL_BITS;
    this.secondLevelMasks[first] &= ~(1 << (list & (SECOND_LEVEL - 1)));
    if (this.secondLevelMasks[first] === 0) this.firstLevelMask &= ~(1 << first);
  }
}
