// Issue 10, items 1–3 and the rest of that class: no caller-settable field, forged object, own
// property or getter can make a kernel write outside the operands it was given. Each case either
// throws a named error with no byte changed anywhere, or does exactly what the float64 reference says.
import { describe, expect, test } from "vitest";
import { Adam, centralize, centralizeAll, gradientStats, SGD, Tensor } from "../../src/index.js";
import { disposedAfterEach, expectRefused, firstChangedByte, memorySnapshot } from "../hostile-fixtures.js";
import { centralizeReference, maxAbsDiff } from "../oracle.js";
import { randomArray } from "../random.js";

const { made, tensor } = disposedAfterEach();

describe("item 1: a Tensor's shape, size and address cannot be changed", () => {
  test("assigning shape throws, the shape is frozen, and centralize uses the real shape", () => {
    const input = randomArray(8, 1, 2);
    const a = tensor(input, [2, 4]);
    const neighbour = tensor(randomArray(8, 2, 3), [2, 4]);
    const before = Float32Array.from(neighbour.data);
    expect(() => ((a as unknown as { shape: number[] }).shape = [2, 8])).toThrow(TypeError);
    expect(Object.isFrozen(a.shape)).toBe(true);
    expect(() => (a.shape as number[]).push(8)).toThrow(TypeError);
    centralize(a);
    expect(a.shape).toEqual([2, 4]);
    expect(maxAbsDiff(a.data, centralizeReference(input, [2, 4]))).toBeLessThanOrEqual(1e-6);
    expect(neighbour.data).toEqual(before);
  });

  test("an own shape defined on a Tensor does not reach the kernel", () => {
    const input = randomArray(8, 3, 2);
    const a = tensor(input, [2, 4]);
    const neighbour = tensor(randomArray(8, 4, 3), [2, 4]);
    const before = Float32Array.from(neighbour.data);
    Object.defineProperty(a, "shape", { value: [2, 8] });
    centralize(a);
    centralizeAll([a]);
    expect(maxAbsDiff(a.data, centralizeReference(input, [2, 4]))).toBeLessThanOrEqual(1e-6);
    expect(neighbour.data).toEqual(before);
    expect(gradientStats(a).units).toBe(2);
  });

  test("an own size defined on a Tensor does not widen its data view, even after memory growth", () => {
    const a = tensor(randomArray(8, 3, 2), [2, 4]);
    const neighbour = tensor(randomArray(8, 4, 3), [2, 4]);
    const before = Float32Array.from(neighbour.data);
    Object.defineProperty(a, "size", { value: 16 });
    const big = new Tensor([Math.ceil(a.data.buffer.byteLength / 4) + 65536]); // memory grows: views are re-made
    big.dispose();
    expect(a.data.length).toBe(8);
    a.data.fill(1);
    expect(neighbour.data).toEqual(before);
  });

  test("an own byteOffset pointing at another tensor does not redirect the kernel", () => {
    const input = randomArray(8, 5, 2);
    const a = tensor(input, [2, 4]);
    const victim = tensor(randomArray(8, 6, 3), [2, 4]);
    const before = Float32Array.from(victim.data);
    Object.defineProperty(a, "byteOffset", { value: victim.byteOffset });
    centralize(a);
    expect(maxAbsDiff(a.data, centralizeReference(input, [2, 4]))).toBeLessThanOrEqual(1e-6);
    expect(victim.data).toEqual(before);
  });

  test("an optimizer steps a Tensor by its real shape, whatever own fields it was given", () => {
    const w0 = randomArray(8, 7, 0, 0.5);
    const g = randomArray(8, 8, 0.3);
    const value = tensor(w0, [2, 4]);
    const grad = tensor(g, [2, 4]);
    const victim = tensor(randomArray(8, 9), [2, 4]);
    const before = Float32Array.from(victim.data);
    Object.defineProperty(value, "shape", { value: [2, 8] });
    Object.defineProperty(grad, "byteOffset", { value: victim.byteOffset });
    const opt = new SGD([{ value, grad }], { lr: 0.5, gc: false });
    opt.step();
    const expected = Array.from(w0, (w, i) => Math.fround(w - Math.fround(0.5 * g[i])));
    expect(maxAbsDiff(value.data, expected)).toBeLessThanOrEqual(1e-6);
    expect(victim.data).toEqual(before);
    opt.dispose();
  });

  test("a subclass overriding data, shape or byteOffset cannot redirect the constructor or the kernels", () => {
    const victim = tensor(randomArray(8, 10, 3), [2, 4]);
    const before = Float32Array.from(victim.data);
    class Evil extends Tensor {
      override get data() {
        return victim.data;
      }
      override get shape() {
        return [2, 8];
      }
      override get byteOffset() {
        return victim.byteOffset;
      }
    }
    const evil = new Evil([2, 4]);
    made.push(evil);
    expect(victim.data).toEqual(before); // the constructor zero-filled its own block, not `data`
    centralize(evil);
    expect(victim.data).toEqual(before);
  });
});

describe("item 2: only real tensors are accepted (a private brand, not instanceof)", () => {
  function forgery(victim: Tensor): Tensor {
    return Object.create(Tensor.prototype, {
      shape: { value: [2, 8] },
      size: { value: 16 },
      byteOffset: { value: victim.byteOffset },
      disposed: { value: false },
      data: { value: victim.data },
    }) as Tensor;
  }
  const POSING = /posing as a Tensor/;

  test.each([
    ["centralize", (f: Tensor) => centralize(f)],
    ["gradientStats", (f: Tensor) => gradientStats(f)],
    ["centralizeAll", (f: Tensor) => centralizeAll([f])],
    ["centralizeAll", (f: Tensor) => centralizeAll([{ grad: f }])],
    ["Tensor.from", (f: Tensor) => Tensor.from(f)],
    ["new Adam", (f: Tensor) => new Adam([{ value: f, grad: new Float32Array(16), shape: [2, 8] }])],
    ["new Adam", (f: Tensor) => new Adam([{ value: new Float32Array(16), grad: f, shape: [2, 8] }])],
  ])("%s refuses Object.create(Tensor.prototype, …) by name", (caller, call) => {
    const victim = tensor(randomArray(16, 11, 2), [2, 8]);
    const neighbour = tensor(randomArray(16, 12, 2), [2, 8]);
    const error = expectRefused(() => call(forgery(victim)), TypeError, POSING, [victim, neighbour]);
    expect(error.message.startsWith(`${caller}: `)).toBe(true);
  });

  test("a Proxy around a Tensor is refused by name everywhere", () => {
    const t = tensor(randomArray(8, 13, 1), [2, 4]);
    const proxy = new Proxy(t, {});
    expectRefused(() => centralize(proxy), TypeError, /^centralize: grad must be a Float32Array or a Tensor, got an object posing as a Tensor/, [t]);
    expectRefused(() => gradientStats(proxy), TypeError, /^gradientStats: grad .*posing as a Tensor/, [t]);
    expectRefused(() => centralizeAll([proxy]), TypeError, /^centralizeAll: gradients\[0\] .*posing as a Tensor/, [t]);
    expectRefused(() => new SGD([{ value: proxy, grad: new Float32Array(8), shape: [2, 4] }], { lr: 1 }), TypeError, /^new SGD: params\[0\]\.value .*posing as a Tensor/, [t]);
  });

  test("a forged tensor given to a running optimizer is refused at the step, changing nothing", () => {
    const value = tensor(randomArray(8, 14), [2, 4]);
    const grad = tensor(randomArray(8, 15), [2, 4]);
    const victim = tensor(randomArray(8, 16), [2, 4]);
    const param = { value: value as Tensor, grad: grad as Tensor };
    const opt = new Adam([param]);
    param.grad = forgery(victim);
    expectRefused(() => opt.step(), TypeError, /^Adam\.step: params\[0\]\.grad .*posing as a Tensor/, [value, grad, victim]);
    opt.dispose();
  });
});

describe("item 3: caller values are read once, before anything is checked", () => {
  test("an own map on centralizeAll's list is not called", () => {
    const input = randomArray(8, 20, 2);
    const a = tensor(input, [2, 4]);
    const victim = tensor(randomArray(8, 21, 3), [2, 4]);
    const before = Float32Array.from(victim.data);
    const list = [a];
    Object.defineProperty(list, "map", { value: () => [victim] });
    Object.defineProperty(list, "filter", { value: () => [victim] });
    centralizeAll(list);
    expect(maxAbsDiff(a.data, centralizeReference(input, [2, 4]))).toBeLessThanOrEqual(1e-6);
    expect(victim.data).toEqual(before);
  });

  test("an own length on a tensor.data view cannot widen the kernel's extent", () => {
    const a = tensor(randomArray(16, 22, 2), [4, 4]);
    const neighbour = tensor(randomArray(16, 23, 2), [4, 4]);
    const view = a.data;
    Object.defineProperty(view, "length", { value: 32 });
    expectRefused(() => centralize(view, [4, 8]), RangeError, /^centralize: shape \[4, 8\] has 32 elements but grad has 16/, [a, neighbour]);
    expectRefused(() => centralizeAll([{ grad: view, shape: [4, 8] }]), RangeError, /^centralizeAll: shape \[4, 8\] has 32 elements but gradients\[0\]\.grad has 16/, [a, neighbour]);
  });

  test("an own length on a checkpoint buffer cannot overflow the optimizer's state", () => {
    const value = tensor(randomArray(8, 24), [2, 4]);
    const grad = tensor(randomArray(8, 25), [2, 4]);
    const opt = new SGD([{ value, grad }], { lr: 0.1, momentum: 0.9 });
    opt.step();
    const neighbour = tensor(randomArray(64, 26), [8, 8]);
    const dict = opt.stateDict();
    const long = new Float32Array(64).fill(7);
    Object.defineProperty(long, "length", { value: 8 });
    dict.state[0].momentumBuffer = long;
    const before = opt.stateDict();
    expectRefused(() => opt.loadStateDict(dict), RangeError, /^SGD\.loadStateDict: state\.state\[0\]\.momentumBuffer has 64 values, expected 8/, [value, grad, neighbour]);
    expect(opt.stateDict()).toEqual(before);
    opt.dispose();
  });

  test("an option getter that disposes the gradient and reuses its block is read before the check (no use-after-free)", () => {
    const grad = Tensor.from(randomArray(16, 27, 2), [4, 4]);
    let victim: Tensor | undefined;
    let victimBefore: Float32Array | undefined;
    const options = {
      get layout() {
        grad.dispose();
        victim = tensor(randomArray(16, 28, 3), [4, 4]); // lands in the freed block
        victimBefore = Float32Array.from(victim.data);
        return "out-first" as const;
      },
    };
    expectRefused(() => centralize(grad, options), TypeError, /^centralize: grad is a disposed Tensor/, [], { memory: false });
    expect(victim!.data).toEqual(victimBefore);
  });

  test("a group hyperparameter getter runs once per step, before the operands are checked", () => {
    const w0 = randomArray(8, 29, 0, 0.5);
    const g = randomArray(8, 30, 0.3);
    const value = tensor(w0, [2, 4]);
    const grad = tensor(g, [2, 4]);
    const opt = new SGD([{ value, grad }], { lr: 0.5, gc: false });
    let reads = 0;
    let victim: Tensor | undefined;
    Object.defineProperty(opt.paramGroups[0], "lr", {
      enumerable: true,
      configurable: true,
      get() {
        // A second read (after the operands were checked) would free the value under the kernel.
        if (++reads > 1) {
          value.dispose();
          victim = tensor(new Float32Array(8).fill(5), [2, 4]);
        }
        return 0.5;
      },
    });
    opt.step();
    expect(reads).toBe(1);
    expect(victim).toBeUndefined();
    const expected = Array.from(w0, (w, i) => Math.fround(w - Math.fround(0.5 * g[i])));
    expect(maxAbsDiff(value.data, expected)).toBeLessThanOrEqual(1e-6);
    opt.dispose();
  });

  test("a param getter runs once per step: the value it gave is the one checked and written", () => {
    const value = tensor(randomArray(8, 31, 0, 0.5), [2, 4]);
    const other = tensor(randomArray(32, 32), [4, 8]);
    const g = tensor(randomArray(8, 33), [2, 4]);
    let reads = 0;
    const param = {
      get value() {
        return ++reads === 1 ? value : other; // a second read would hand the kernel a bigger tensor
      },
      grad: g,
    };
    const opt = new SGD([param as never], { lr: 0.1 });
    reads = 0;
    const otherBefore = Float32Array.from(other.data);
    opt.step();
    expect(reads).toBe(1);
    expect(other.data).toEqual(otherBefore);
    opt.dispose();
  });

  test("a getter that shrinks a resizable buffer runs before the length is checked", () => {
    type Resizable = ArrayBuffer & { resize(bytes: number): void };
    const buffer = new (ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => Resizable)(64, { maxByteLength: 64 });
    const grad = new Float32Array(buffer); // tracks the buffer's length
    grad.set(randomArray(16, 34, 1));
    const options = {
      get layout() {
        buffer.resize(16);
        return "out-first" as const;
      },
    };
    const kept = grad.slice(0, 4); // what is left after the getter's own shrink
    expectRefused(() => centralize(grad, [4, 4], options), RangeError, /^centralize: shape \[4, 4\] has 16 elements but grad has 4/);
    expect(grad).toEqual(kept);
  });

  test("a shape whose elements or iterator change between reads is read once", () => {
    let reads = 0;
    const shape = [2, 3];
    Object.defineProperty(shape, 0, { enumerable: true, get: () => (reads++ === 0 ? 2 : -2) });
    (shape as unknown as { [Symbol.iterator]: () => Iterator<number> })[Symbol.iterator] = function* () {
      yield -2;
      yield -3;
    };
    const t = new Tensor(shape);
    made.push(t);
    expect(reads).toBe(1);
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(t.data.length).toBe(6);
    centralize(t);
  });
});

describe("a kept tensor.data view after dispose (the rest of the class)", () => {
  test("is refused even when its block now holds a new tensor, which stays unchanged", () => {
    const old = Tensor.from(randomArray(6, 60, 2), [2, 3]);
    const stale = old.data;
    old.dispose();
    const reuser = tensor(randomArray(6, 61, 3), [2, 3]);
    expect(reuser.byteOffset).toBe(stale.byteOffset); // the allocator gave the block to the new tensor
    const message = /is the data of a disposed Tensor \(its block may hold another tensor now\)/;
    expectRefused(() => centralize(stale, [2, 3]), TypeError, new RegExp(`^centralize: grad ${message.source}`), [reuser]);
    expectRefused(() => gradientStats(stale, [2, 3]), TypeError, message, [reuser]);
    expectRefused(() => centralizeAll([{ grad: stale, shape: [2, 3] }]), TypeError, message, [reuser]);
    expectRefused(() => Tensor.from(stale), TypeError, /^Tensor\.from: values is the data of a disposed Tensor/, [reuser]);
    const value = tensor(randomArray(6, 62), [2, 3]);
    expectRefused(() => new SGD([{ value: stale, grad: value, shape: [2, 3] }], { lr: 1 }), TypeError, /^new SGD: params\[0\]\.value is the data of a disposed Tensor/, [reuser, value]);
  });
});

describe("operands that share memory (the rest of the class)", () => {
  test("centralizeAll refuses two gradients over the same values", () => {
    const t = tensor(randomArray(16, 40, 2), [4, 4]);
    const data = t.data;
    expectRefused(
      () => centralizeAll([{ grad: data.subarray(0, 8), shape: [2, 4] }, { grad: data.subarray(4, 12), shape: [2, 4] }]),
      TypeError,
      /^centralizeAll: gradients\[1\]\.grad shares memory with gradients\[0\]\.grad/,
      [t],
    );
    const plain = randomArray(12, 41);
    expectRefused(
      () => centralizeAll([{ grad: plain.subarray(0, 8), shape: [2, 4] }, { grad: plain.subarray(4), shape: [2, 4] }]),
      TypeError,
      /shares memory/,
      [plain],
    );
  });

  test("an optimizer refuses a value that overlaps a gradient", () => {
    const t = tensor(randomArray(12, 42), [12]);
    const data = t.data;
    expectRefused(
      () => new SGD([{ value: data.subarray(0, 8), grad: data.subarray(4, 12), shape: [8] }], { lr: 1 }),
      TypeError,
      /^new SGD: params\[0\]\.grad shares memory with params\[0\]\.value/,
      [t],
    );
  });

  test("a view of optimizer state or scratch (memory no live Tensor owns) is refused", () => {
    const value = tensor(randomArray(8, 43), [2, 4]);
    const grad = tensor(randomArray(8, 44), [2, 4]);
    const opt = new SGD([{ value, grad }], { lr: 0.1, momentum: 0.9 });
    opt.step();
    const bufferBefore = opt.stateDict().state[0].momentumBuffer as Float32Array;
    // The momentum buffer was allocated after the tensors: find it by its values.
    const heap = new Float32Array(value.data.buffer);
    let at = -1;
    for (let i = 0; i + 8 <= heap.length && at < 0; i++) {
      if (heap.subarray(i, i + 8).every((x, j) => Object.is(x, bufferBefore[j]))) at = i;
    }
    expect(at).toBeGreaterThan(0);
    const snapshot = memorySnapshot();
    expect(() => centralize(heap.subarray(at, at + 8), [2, 4])).toThrow(/^centralize: grad views linear memory that no live Tensor owns/);
    expect(firstChangedByte(snapshot)).toBe(-1);
    opt.dispose();
  });
});

describe("getters that call back into the optimizer while its arguments are read", () => {
  function setUp() {
    const value = tensor(randomArray(6, 50), [2, 3]);
    const grad = tensor(randomArray(6, 51), [2, 3]);
    const param = { value, grad };
    const opt = new SGD([param], { lr: 0.1, momentum: 0.9 });
    return { value, grad, param, opt };
  }

  test("a getter that disposes the optimizer mid-step: a named TypeError, no state made, no byte changed", () => {
    const { value, grad, opt } = setUp();
    Object.defineProperty(opt.paramGroups[0], "lr", { enumerable: true, configurable: true, get: () => (opt.dispose(), 0.1) });
    expectRefused(() => opt.step(), TypeError, /^SGD\.step: the optimizer has been disposed/, [value, grad]);
  });

  test("a getter that adds a parameter group mid-step: a named TypeError, nothing stepped", () => {
    const { value, grad, param, opt } = setUp();
    const extra = { value: tensor(randomArray(4, 52), [4]), grad: tensor(randomArray(4, 53), [4]) };
    let added = false;
    Object.defineProperty(param, "grad", {
      enumerable: true,
      configurable: true,
      get: () => {
        if (!added) {
          added = true;
          opt.addParamGroup({ params: [extra] });
        }
        return grad;
      },
    });
    const before = opt.stateDict();
    expectRefused(() => opt.step(), TypeError, /^SGD\.step: the optimizer was changed while its arguments were read/, [value, grad, extra.value, extra.grad], { memory: false });
    expect(opt.stateDict().state.slice(0, 1)).toEqual(before.state);
    expect(opt.paramGroups.length).toBe(2); // the getter's own call succeeded
    opt.dispose();
  });

  test("a checkpoint getter that steps the optimizer mid-load: a named TypeError, the step's state kept", () => {
    const { value, grad, opt } = setUp();
    opt.step();
    const dict = opt.stateDict();
    Object.defineProperty(dict, "state", { enumerable: true, get: () => (opt.step(), dict.paramGroups.map(() => ({ step: 0 }))) });
    const after = () => opt.stateDict();
    expect(() => opt.loadStateDict(dict)).toThrow(/^SGD\.loadStateDict: the optimizer was changed while its arguments were read/);
    expect(after().state[0].step).toBe(2); // the getter's step, not the checkpoint's 0
    void value;
    void grad;
    opt.dispose();
  });
});
