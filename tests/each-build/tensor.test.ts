// Tensor in linear memory: allocation, reuse of freed blocks, views that survive memory growth.
import { expect, test, vi } from "vitest";
import { centralize, Tensor } from "../../src/index.js";
import { LinearMemory } from "../../src/memory.js";
import { centralizeReference, maxAbsDiff } from "../oracle.js";
import { randomArray } from "../random.js";

/** The threads build: its memory is shared, so growth never detaches a view. */
const SHARED_MEMORY = process.env.GC_BUILD === "threads";

test("new Tensor is zero-filled, even over memory a disposed tensor left dirty", () => {
  const dirty = Tensor.from(new Float32Array(100).fill(7), [10, 10]);
  dirty.dispose();
  const t = new Tensor([10, 10]);
  expect(t.shape).toEqual([10, 10]);
  expect(t.size).toBe(100);
  expect(t.data).toEqual(new Float32Array(100));
  t.dispose();
});

test("Tensor.from copies values; shape defaults to [length]", () => {
  const values = new Float32Array([1, 2, 3]);
  const t = Tensor.from(values);
  values[0] = 9;
  expect(t.shape).toEqual([3]);
  expect(Array.from(t.data)).toEqual([1, 2, 3]);
  const u = Tensor.from([1, 2, 3, 4], [2, 2]);
  expect(Array.from(u.data)).toEqual([1, 2, 3, 4]);
  t.dispose();
  u.dispose();
});

test("blocks are 16-byte aligned and freed blocks are reused", () => {
  const a = new Tensor([3]);
  const b = new Tensor([5]);
  expect(a.byteOffset % 16).toBe(0);
  expect(b.byteOffset % 16).toBe(0);
  const where = a.byteOffset;
  a.dispose();
  const c = new Tensor([2]);
  expect(c.byteOffset).toBe(where);
  b.dispose();
  c.dispose();
});

test("a long allocate/dispose loop does not grow memory", () => {
  const memory = () => new Tensor([1]);
  const probe = memory();
  const before = probe.data.buffer.byteLength;
  probe.dispose();
  for (let i = 0; i < 2000; i++) {
    const t = new Tensor([64, (i % 50) + 1]);
    centralize(t);
    t.dispose();
  }
  const after = memory();
  expect(after.data.buffer.byteLength).toBe(before);
  after.dispose();
});

test("a tensor allocated before memory growth still reads and writes after it", () => {
  const input = randomArray(16 * 40, 9, 2);
  const early = Tensor.from(input, [16, 40]);
  const staleView = early.data;
  const bytesBefore = staleView.buffer.byteLength;
  const big = new Tensor([Math.ceil(bytesBefore / 4) + 65536]); // forces memory.grow
  expect(big.data.buffer.byteLength).toBeGreaterThan(bytesBefore);
  if (SHARED_MEMORY) {
    // A shared memory's older buffer is never detached: the old view still sees the same bytes.
    expect(staleView).toEqual(input);
  } else expect(staleView.length).toBe(0); // the old view is detached: reading it would silently see nothing
  expect(early.data).toEqual(input); // the getter hands out a live view over the new buffer
  centralize(early);
  expect(maxAbsDiff(early.data, centralizeReference(input, [16, 40]))).toBeLessThanOrEqual(1e-5);
  early.data[0] = 42;
  expect(early.data[0]).toBe(42);
  big.dispose();
  early.dispose();
});

test("a Float32Array staged through the API survives growth caused by its own staging", () => {
  const small = Tensor.from(randomArray(8, 1), [8]);
  const bytes = small.data.buffer.byteLength;
  const shape = [100, Math.ceil(bytes / 400) + 1000];
  const input = randomArray(shape[0] * shape[1], 4, 1);
  const grad = input.slice();
  centralize(grad, shape);
  expect(small.data.buffer.byteLength).toBeGreaterThan(bytes);
  expect(maxAbsDiff(grad, centralizeReference(input, shape))).toBeLessThanOrEqual(1e-5);
  expect(small.data.length).toBe(8);
  small.dispose();
});

test("dispose is idempotent and a disposed tensor refuses use", () => {
  const t = new Tensor([2, 2]);
  t.dispose();
  t.dispose();
  expect(t.disposed).toBe(true);
  expect(() => t.data).toThrow(TypeError);
  expect(() => centralize(t)).toThrow(/disposed/);
});

test("Tensor.from(other.data) copies even when the allocation grows memory", () => {
  const input = randomArray(1000, 6, 3);
  const original = Tensor.from(input, [10, 100]);
  const bytes = original.data.buffer.byteLength;
  const clone = Tensor.from(original.data, [10, 100]);
  expect(clone.data).toEqual(input);
  const big = Tensor.from(new Float32Array(Math.ceil(bytes / 4) + 70_000)); // grows memory
  const grownClone = Tensor.from(original.data, original.shape); // the view is taken fresh, the allocation grows again
  expect(grownClone.data).toEqual(input);
  for (const t of [original, clone, big, grownClone]) t.dispose();
});

test("views of linear memory: a detached view or a disposed tensor's data is refused, nothing written", () => {
  const a = Tensor.from(randomArray(12, 2), [3, 4]);
  const stale = a.data;
  const big = new Tensor([Math.ceil(stale.buffer.byteLength / 4) + 70_000]); // grows memory: `stale` is detached
  if (SHARED_MEMORY) {
    // Shared memory (threads build): the view from before growth is still linear memory, used in place.
    const values = stale.slice();
    centralize(stale, [3, 4]);
    expect(maxAbsDiff(a.data, centralizeReference(values, [3, 4]))).toBeLessThanOrEqual(1e-6);
  } else expect(() => centralize(stale, [3, 4])).toThrow(/centralize: grad has no values: a view of linear memory detached when memory grew/);
  const before = a.data.slice();
  const b = Tensor.from(randomArray(12, 3), [3, 4]);
  const freed = b.data;
  b.dispose(); // its block is free until another allocation takes it
  expect(() => centralize(freed, [3, 4])).toThrow(/centralize: grad is the data of a disposed Tensor/);
  expect(() => centralize(freed.subarray(0), [3, 4])).toThrow(/centralize: grad views linear memory that no live Tensor owns/);
  expect(a.data).toEqual(before);
  for (const t of [a, big]) t.dispose();
});

test("a shape too large for linear memory is a RangeError naming the shape", () => {
  expect(() => new Tensor([65536, 65536])).toThrow(/new Tensor: shape \[65536, 65536\] has 4294967296 values, more than 32-bit linear memory can hold/);
  const t = new Tensor([4]); // the allocator is still usable
  expect(t.data.length).toBe(4);
  t.dispose();
});


test("a staging block that cannot be allocated leaves the allocator consistent", () => {
  const probe = new Tensor([1]);
  const huge = new Float32Array(probe.data.buffer.byteLength / 4 + 16); // needs a larger staging block than any so far
  probe.dispose();
  const alloc = vi.spyOn(LinearMemory.prototype, "alloc").mockImplementation(() => {
    throw new RangeError("no memory left");
  });
  try {
    expect(() => centralize(huge, [16, huge.length / 16])).toThrow(/no memory left/);
  } finally {
    alloc.mockRestore();
  }
  // The released staging block may now go to a tensor; later staged calls must not write into it.
  const keep = Tensor.from(randomArray(4096, 9), [64, 64]);
  const kept = keep.data.slice();
  const input = randomArray(24, 5);
  const g = centralize(input.slice(), [4, 6], { layout: "out-last" });
  expect(maxAbsDiff(g, centralizeReference(input, [4, 6], "out-last"))).toBeLessThanOrEqual(1e-6);
  expect(keep.data).toEqual(kept);
  keep.dispose();
});
