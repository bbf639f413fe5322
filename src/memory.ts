// Linear memory: a first-fit free-list allocator over the module's memory, and views that are
// re-created whenever memory growth has replaced `memory.buffer`. The one place that knows it.

const PAGE_BYTES = 65536;
const ALIGN = 16;

interface Block {
  ptr: number;
  bytes: number;
}

const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** Allocator and live typed-array views over one `WebAssembly.Memory`. */
export class LinearMemory {
  readonly memory: WebAssembly.Memory;
  /** Free blocks, sorted by address, never adjacent (they are merged). */
  private readonly free: Block[] = [];
  /** Size of every allocated block, by address. */
  private readonly used = new Map<number, number>();
  private cachedBuffer: ArrayBuffer | undefined;
  private cachedF32 = new Float32Array(0);
  private cachedF64 = new Float64Array(0);
  private cachedI32 = new Int32Array(0);
  /** A block reused by every call that needs temporary room, so hot paths do not allocate. */
  private staging: Block = { ptr: 0, bytes: 0 };

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    const start = alignUp(heapBase);
    if (memory.buffer.byteLength <= start) memory.grow(Math.ceil((start + 1 - memory.buffer.byteLength) / PAGE_BYTES));
    this.free.push({ ptr: start, bytes: memory.buffer.byteLength - start });
  }

  /** Total size of linear memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Allocates `bytes` (rounded up to 16, at least 16) at a 16-byte aligned address. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, alignUp(bytes));
    let index = this.free.findIndex((block) => block.bytes >= size);
    if (index < 0) index = this.grow(size);
    const block = this.free[index];
    const ptr = block.ptr;
    if (block.bytes === size) this.free.splice(index, 1);
    else {
      block.ptr += size;
      block.bytes -= size;
    }
    this.used.set(ptr, size);
    return ptr;
  }

  /** Returns a block from `alloc` to the free list, merging it with free neighbours. */
  release(ptr: number): void {
    const bytes = this.used.get(ptr);
    if (bytes === undefined) throw new RangeError(`release: ${ptr} is not an allocated block`);
    this.used.delete(ptr);
    let index = 0;
    while (index < this.free.length && this.free[index].ptr < ptr) index++;
    this.free.splice(index, 0, { ptr, bytes });
    const next = this.free[index + 1];
    if (next && ptr + bytes === next.ptr) {
      this.free[index].bytes += next.bytes;
      this.free.splice(index + 1, 1);
    }
    const prev = this.free[index - 1];
    if (prev && prev.ptr + prev.bytes === ptr) {
      prev.bytes += this.free[index].bytes;
      this.free.splice(index, 1);
    }
  }

  /** Grows memory so that a free block of `size` bytes exists at the end; returns its index. */
  private grow(size: number): number {
    const end = this.memory.buffer.byteLength;
    const last = this.free[this.free.length - 1];
    const tail = last && last.ptr + last.bytes === end ? last.bytes : 0;
    this.memory.grow(Math.ceil((size - tail) / PAGE_BYTES));
    const added = this.memory.buffer.byteLength - end;
    if (tail > 0) last.bytes += added;
    else this.free.push({ ptr: end, bytes: added });
    return this.free.length - 1;
  }

  /**
   * A temporary block of at least `bytes`, valid until the next call to `stagingBlock`; it is
   * kept between calls and only replaced when a larger one is needed.
   */
  stagingBlock(bytes: number): number {
    if (bytes > this.staging.bytes) {
      const old = this.staging;
      const size = alignUp(Math.max(bytes, old.bytes * 2));
      // Forgotten before allocating: if memory cannot grow, no call may get the released block back.
      this.staging = { ptr: 0, bytes: 0 };
      if (old.bytes > 0) this.release(old.ptr);
      this.staging = { ptr: this.alloc(size), bytes: size };
    }
    return this.staging.ptr;
  }

  private refresh(): ArrayBuffer {
    const buffer = this.memory.buffer;
    if (buffer !== this.cachedBuffer) {
      this.cachedBuffer = buffer;
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

  /** True when [ptr, ptr + bytes) lies inside one allocated block. */
  owns(ptr: number, bytes: number): boolean {
    for (const [start, size] of this.used) if (ptr >= start && ptr + bytes <= start + size) return true;
    return false;
  }

  /** Bytes currently allocated (staging included). */
  get allocatedBytes(): number {
    let total = 0;
    for (const bytes of this.used.values()) total += bytes;
    return total;
  }
}
