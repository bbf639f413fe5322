// The allocator (src/memory.ts) against a plain model: random allocate/release sequences, after
// every operation the blocks are aligned, disjoint, every byte is either allocated or free, free
// neighbours are merged, `owns` agrees with the model, and a memory that cannot grow still
// serves every request that some free block can hold.
import { expect, test } from "vitest";
import { LinearMemory } from "../src/memory.js";
import { AddressTree } from "../src/addresses.js";
import { uniform as rng } from "./random.js";

const PAGE = 65536;

/** Checks the allocator's whole state against the model of live blocks (ptr → requested bytes). */
function checkInvariants(memory: LinearMemory, live: Map<number, number>) {
  const blocks: { ptr: number; bytes: number; free: boolean }[] = [];
  let allocated = 0;
  for (const [ptr, requested] of live) {
    const bytes = Math.max(16, Math.ceil(requested / 16) * 16);
    expect(ptr % 16).toBe(0);
    blocks.push({ ptr, bytes, free: false });
    allocated += bytes;
  }
  for (const { ptr, bytes } of memory.freeBlocks()) blocks.push({ ptr, bytes, free: true });
  blocks.sort((a, b) => a.ptr - b.ptr);
  // The blocks tile [heapStart, byteLength) exactly: no overlap, no byte unaccounted for.
  let at = memory.heapStart;
  for (let i = 0; i < blocks.length; i++) {
    expect(blocks[i].ptr).toBe(at);
    at += blocks[i].bytes;
    if (i > 0 && blocks[i].free) expect(blocks[i - 1].free, "free neighbours are merged").toBe(false);
  }
  expect(at).toBe(memory.byteLength);
  expect(memory.allocatedBytes).toBe(allocated);
  const use = memory.use();
  expect(use.bytes + use.freeBytes).toBe(memory.byteLength - memory.heapStart);
  const free = blocks.filter((b) => b.free).map((b) => b.bytes);
  expect(use.largestFreeBlock).toBe(free.length ? Math.max(...free) : 0);
}

test("random allocate/release sequences keep blocks aligned, disjoint, accounted for and merged", () => {
  for (let seed = 1; seed <= 6; seed++) {
    const random = rng(seed);
    const memory = new LinearMemory(new WebAssembly.Memory({ initial: 1 }), 1000 + seed);
    const live = new Map<number, number>();
    for (let op = 0; op < 1500; op++) {
      if (live.size > 0 && random() < 0.45) {
        const ptrs = [...live.keys()];
        const ptr = ptrs[Math.floor(random() * ptrs.length)];
        memory.release(ptr);
        live.delete(ptr);
      } else {
        // mostly small, sometimes over a page, sometimes exact sizes already seen
        const r = random();
        const bytes = r < 0.6 ? Math.floor(random() * 300) : r < 0.9 ? Math.floor(random() * 20000) : Math.floor(random() * 200000);
        const ptr = memory.alloc(bytes);
        expect(live.has(ptr)).toBe(false);
        live.set(ptr, bytes);
      }
      if (op % 50 === 0) checkInvariants(memory, live);
    }
    checkInvariants(memory, live);
    for (const ptr of live.keys()) memory.release(ptr);
    live.clear();
    checkInvariants(memory, live);
    expect(memory.freeBlocks()).toEqual([{ ptr: memory.heapStart, bytes: memory.byteLength - memory.heapStart }]);
  }
});

test("owns(ptr, bytes) is true exactly when the range lies inside one allocated block", () => {
  const random = rng(7);
  const memory = new LinearMemory(new WebAssembly.Memory({ initial: 1 }), 64);
  const live = new Map<number, number>();
  for (let i = 0; i < 400; i++) {
    const bytes = 16 * (1 + Math.floor(random() * 40));
    live.set(memory.alloc(bytes), bytes);
  }
  for (const ptr of [...live.keys()].filter((_, i) => i % 3 === 0)) {
    memory.release(ptr);
    live.delete(ptr);
  }
  const inside = (ptr: number, bytes: number) => [...live].some(([p, b]) => ptr >= p && ptr + bytes <= p + b);
  for (let i = 0; i < 5000; i++) {
    const ptr = 4 * Math.floor((random() * memory.byteLength) / 4);
    const bytes = 4 * Math.floor(random() * 64);
    expect(memory.owns(ptr, bytes), `owns(${ptr}, ${bytes})`).toBe(inside(ptr, bytes));
  }
});

test("freed memory is reused: an allocation never grows memory while a free block has room to spare", () => {
  const random = rng(11);
  const memory = new LinearMemory(new WebAssembly.Memory({ initial: 1 }), 16);
  const live: number[] = [];
  for (let op = 0; op < 3000; op++) {
    if (live.length > 0 && random() < 0.5) memory.release(live.splice(Math.floor(random() * live.length), 1)[0]);
    else {
      const bytes = 16 * (1 + Math.floor(random() * 2000));
      // A block at least 1/16 larger than the request is in a list whose every block fits.
      const roomy = memory.freeBlocks().some((b) => b.bytes >= bytes * (1 + 1 / 16) + 16);
      const before = memory.byteLength;
      live.push(memory.alloc(bytes));
      if (roomy) expect(memory.byteLength).toBe(before);
    }
  }
});

test("a memory that cannot grow serves every request some free block holds, refuses the rest and changes nothing", () => {
  const random = rng(13);
  const memory = new LinearMemory(new WebAssembly.Memory({ initial: 4, maximum: 4 }), 16);
  const live = new Map<number, number>();
  let refused = 0;
  for (let op = 0; op < 4000; op++) {
    if (live.size > 0 && random() < 0.48) {
      const ptr = [...live.keys()][Math.floor(random() * live.size)];
      memory.release(ptr);
      live.delete(ptr);
      continue;
    }
    const bytes = 16 * (1 + Math.floor(random() * 1500));
    const fits = memory.freeBlocks().some((b) => b.bytes >= bytes);
    const before = { free: memory.freeBlocks(), allocated: memory.allocatedBytes };
    if (fits) live.set(memory.alloc(bytes), bytes);
    else {
      refused++;
      expect(() => memory.alloc(bytes, "test")).toThrow(RangeError);
      expect(() => memory.alloc(bytes, "test")).toThrow(/^test: linear memory cannot grow to hold \d+ more bytes/);
      expect({ free: memory.freeBlocks(), allocated: memory.allocatedBytes }).toEqual(before);
    }
    if (op % 100 === 0) checkInvariants(memory, live);
  }
  expect(refused).toBeGreaterThan(10);
  expect(memory.byteLength).toBe(4 * PAGE);
});

test("the out-of-memory message says what holds memory and how to free it", () => {
  const memory = new LinearMemory(new WebAssembly.Memory({ initial: 1, maximum: 2 }), 16);
  memory.liveTensors = 3;
  memory.alloc(40000);
  expect(() => memory.alloc(200000, "new Tensor")).toThrow(
    /^new Tensor: linear memory cannot grow to hold 200000 more bytes .*held by 3 live tensor\(s\).*dispose\(\).*tidy\(/,
  );
  // 4 GiB is the end of 32-bit memory: refused before asking the engine
  expect(() => memory.alloc(2 ** 32)).toThrow(/cannot grow to hold 4294967296 more bytes/);
  expect(memory.allocatedBytes).toBe(40000);
});

test("release of an address that is not an allocated block is a RangeError and changes nothing", () => {
  const memory = new LinearMemory(new WebAssembly.Memory({ initial: 1 }), 16);
  const ptr = memory.alloc(100);
  expect(() => memory.release(ptr + 16)).toThrow(/release: \d+ is not an allocated block/);
  memory.release(ptr);
  expect(() => memory.release(ptr)).toThrow(RangeError);
  expect(memory.freeBlocks()).toEqual([{ ptr: memory.heapStart, bytes: memory.byteLength - memory.heapStart }]);
});

test("the staging block: reused while large enough, replaced when not, unchanged when it cannot grow", () => {
  const memory = new LinearMemory(new WebAssembly.Memory({ initial: 2, maximum: 2 }), 16);
  const a = memory.stagingBlock(1000);
  expect(memory.stagingBlock(500)).toBe(a);
  const b = memory.stagingBlock(3000); // twice the old size at least
  expect(memory.allocatedBytes).toBe(Math.ceil(Math.max(3000, 2 * 1008) / 16) * 16);
  expect(memory.stagingBlock(3000)).toBe(b);
  const held = memory.allocatedBytes;
  expect(() => memory.stagingBlock(10 * PAGE, "centralize")).toThrow(/^centralize: linear memory cannot grow/);
  expect(memory.allocatedBytes).toBe(held); // a block of the old size is staged again
  const c = memory.stagingBlock(held);
  expect(memory.owns(c, held)).toBe(true);
});

test("AddressTree.floor finds the block at or below an address (a sorted-array reference)", () => {
  const random = rng(17);
  const tree = new AddressTree();
  const keys = new Set<number>();
  for (let i = 0; i < 3000; i++) {
    const key = Math.floor(random() * 5000) * 16;
    if (keys.has(key)) {
      tree.remove(key);
      keys.delete(key);
    } else {
      tree.insert(key, key % 7);
      keys.add(key);
    }
  }
  const sorted = [...keys].sort((a, b) => a - b);
  for (let i = 0; i < 2000; i++) {
    const address = Math.floor(random() * 82000);
    const below = sorted.filter((k) => k <= address);
    const expected = below.length ? below[below.length - 1] : undefined;
    const found = tree.floor(address);
    expect(found?.key).toBe(expected);
    if (found) expect(found.size).toBe(found.key % 7);
  }
});
