// tidy(), keep(), Symbol.dispose (`using`) and memory() (issue 10, item 16): the tools that free
// tensors in loops, where the garbage collector never runs, and that show what memory holds.
import { afterEach, expect, test, vi } from "vitest";
import { Adam, centralize, keep, memory, SGD, Tensor, tidy } from "../../src/index.js";
import { centralizeReference, maxAbsDiff } from "../oracle.js";
import { randomArray } from "../random.js";

afterEach(() => vi.restoreAllMocks());

test("memory() counts live tensors and their bytes exactly", () => {
  const before = memory();
  expect(before.bytes + before.freeBytes).toBeLessThanOrEqual(before.linearMemoryBytes);
  const a = new Tensor([100]); // 400 bytes (a multiple of 16)
  const b = Tensor.from(new Float32Array(3)); // 12 bytes, rounded up to 16
  const during = memory();
  expect(during.tensors - before.tensors).toBe(2);
  expect(during.bytes - before.bytes).toBe(416);
  a.dispose();
  a.dispose(); // idempotent: counted once
  b.dispose();
  expect(memory()).toEqual({ ...memory(), tensors: before.tensors, bytes: before.bytes });
  expect(memory().largestFreeBlock).toBeLessThanOrEqual(memory().freeBytes);
});

test("tidy disposes every tensor made inside that it does not return, and returns fn's result", () => {
  const start = memory().tensors;
  const made: Tensor[] = [];
  const result = tidy(() => {
    const g = Tensor.from(randomArray(12, 1), [3, 4]);
    made.push(g, new Tensor([5]));
    centralize(g);
    const kept = Tensor.from(g.data, [3, 4]);
    made.push(kept);
    return { kept, nested: [[kept]], mean: g.data[0] };
  });
  expect(made.map((t) => t.disposed)).toEqual([true, true, false]);
  expect(result.kept).toBe(made[2]);
  expect(maxAbsDiff(result.kept.data, centralizeReference(randomArray(12, 1), [3, 4], "out-first"))).toBeLessThanOrEqual(1e-6);
  expect(memory().tensors).toBe(start + 1);
  result.kept.dispose();
  expect(memory().tensors).toBe(start);
  expect(tidy(() => 42)).toBe(42);
});

test("nested tidy: what the inner returns moves to the outer, which disposes it unless returned again", () => {
  let inner: Tensor | undefined;
  let innerOnly: Tensor | undefined;
  const outer = tidy(() => {
    inner = tidy(() => {
      innerOnly = new Tensor([2]);
      return new Tensor([3]);
    });
    expect(innerOnly!.disposed).toBe(true);
    expect(inner.disposed).toBe(false);
    return new Tensor([4]);
  });
  expect(inner!.disposed).toBe(true); // made in the inner scope, returned by it, not by the outer
  expect(outer.disposed).toBe(false);
  outer.dispose();
});

test("tidy: a throwing fn disposes everything it made and rethrows; a Promise is refused; keep() survives", () => {
  const start = memory().tensors;
  let inside: Tensor | undefined;
  const boom = new Error("boom");
  expect(() =>
    tidy(() => {
      inside = new Tensor([8]);
      throw boom;
    }),
  ).toThrow(boom);
  expect(inside!.disposed).toBe(true);
  expect(() => tidy(async () => new Tensor([1]))).toThrow(/^tidy: fn returned a Promise/);
  expect(memory().tensors).toBe(start);
  let kept: Tensor | undefined;
  tidy(() => {
    kept = keep(new Tensor([2]));
  });
  expect(kept!.disposed).toBe(false);
  kept!.dispose();
  expect(() => tidy(5 as never)).toThrow(/^tidy: fn must be a function, got number/);
  expect(memory().tensors).toBe(start);
});

test("a loop of tidy() calls does not grow linear memory or the tensor count", () => {
  const step = () =>
    tidy(() => {
      const g = Tensor.from(randomArray(4096, 2), [64, 64]);
      centralize(g);
      return g.data[0];
    });
  step();
  const before = memory();
  for (let i = 0; i < 200; i++) step();
  const after = memory();
  expect(after.tensors).toBe(before.tensors);
  expect(after.linearMemoryBytes).toBe(before.linearMemoryBytes);
  expect(after.bytes).toBe(before.bytes);
});

test("`using` disposes a Tensor and an optimizer at the end of the block", () => {
  const start = memory();
  let escaped: Tensor | undefined;
  let opt: SGD | undefined;
  let inside = 0;
  {
    using w = Tensor.from(randomArray(6, 3), [2, 3]);
    using g = Tensor.from(randomArray(6, 4), [2, 3]);
    using o = new SGD([{ value: w, grad: g }], { lr: 0.1, momentum: 0.9 });
    o.step(); // makes a momentum buffer
    escaped = w;
    opt = o;
    inside = memory().bytes;
  }
  expect(escaped!.disposed).toBe(true);
  expect(opt!.disposed).toBe(true);
  expect(memory().tensors).toBe(start.tensors);
  expect(inside - memory().bytes).toBe(3 * 32); // w, g and the momentum buffer: 6 floats each, 16-aligned
  expect(typeof Symbol.dispose).toBe("symbol");
  expect(Tensor.prototype[Symbol.dispose]).toBeTypeOf("function");
  expect(Adam.prototype[Symbol.dispose]).toBeTypeOf("function");
});

test("memory that cannot grow: the error says how many tensors are live and how to free them", () => {
  const held = [new Tensor([10]), new Tensor([10])];
  const live = memory().tensors;
  vi.spyOn(WebAssembly.Memory.prototype, "grow").mockImplementation(() => {
    throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded");
  });
  const size = memory().linearMemoryBytes / 4;
  const error = (() => {
    try {
      new Tensor([size]);
    } catch (e) {
      return e as Error;
    }
  })();
  expect(error).toBeInstanceOf(RangeError);
  expect(error!.message).toMatch(new RegExp(`^new Tensor: shape \\[${size}\\] needs ${size * 4} bytes: linear memory cannot grow`));
  expect(error!.message).toContain(`held by ${live} live tensor(s)`);
  expect(error!.message).toMatch(/tensor\.dispose\(\).*tidy\(\(\) => \.\.\.\)/);
  expect(memory().tensors).toBe(live);
  held.forEach((t) => t.dispose());
});
