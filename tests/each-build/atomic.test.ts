// Calls that allocate (issue 10, items 5 and 6): everything is allocated first, then written. A
// view of linear memory given as an argument keeps working when the call's own allocation grows
// memory (which detaches it), and when memory cannot grow the call throws a RangeError naming
// itself and no byte, no hyperparameter, no step count and no allocation has changed.
import { afterEach, expect, test, vi } from "vitest";
import { Adam, centralize, centralizeAll, gradientStats, memory, SGD, Tensor } from "../../src/index.js";
import { runtime } from "../../src/runtime.js";
import { centralizeReference, maxAbsDiff } from "../oracle.js";
import { randomArray } from "../random.js";

const linear = () => runtime("test").memory;

/** Makes every `memory.grow` fail, as at the 4 GiB limit or when the engine refuses. */
function refuseGrowth() {
  return vi.spyOn(WebAssembly.Memory.prototype, "grow").mockImplementation(() => {
    throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded");
  });
}
afterEach(() => vi.restoreAllMocks());

/** A number of float32 values whose block cannot fit in memory as it is now: allocating it grows memory. */
const beyondMemory = () => linear().byteLength / 4 + 4096;

/** Fills every free block of 256 bytes or more with a tensor: any larger allocation then grows memory. */
function exhaustFreeMemory(): Tensor[] {
  const ballast: Tensor[] = [];
  for (let i = 0; i < 200 && memory().largestFreeBlock >= 256; i++) ballast.push(new Tensor([memory().largestFreeBlock / 4]));
  expect(memory().largestFreeBlock).toBeLessThan(256);
  return ballast;
}

/** Copies of the bit patterns of every given array (or tensor), to prove no byte changed. */
const snapshot = (arrays: (Float32Array | Tensor)[]) =>
  arrays.map((a) => new Uint32Array(Float32Array.from(a instanceof Tensor ? a.data : a).buffer));

/** True when the arrays hold exactly the bits of `before` (a loop: toEqual is slow on millions of values). */
function unchanged(before: Uint32Array[], arrays: (Float32Array | Tensor)[]): boolean {
  const now = snapshot(arrays);
  return now.length === before.length && now.every((x, i) => x.length === before[i].length && x.every((v, j) => v === before[i][j]));
}

/** Same bits in two float32 arrays. */
const sameBits = (a: Float32Array, b: Float32Array) => unchanged(snapshot([a]), [b]);

test("centralizeAll: a tensor.data entry survives the growth caused by staging a later entry", () => {
  const shape = [8, 16];
  const input = randomArray(128, 1, 3);
  const t = Tensor.from(input, shape);
  const cols = beyondMemory() / 16;
  const bigInput = randomArray(16 * cols, 2, 1);
  const big = bigInput.slice();
  const bufferBefore = t.data.buffer;
  centralizeAll([{ grad: t.data, shape }, { grad: big, shape: [16, cols] }]);
  expect(t.data.buffer).not.toBe(bufferBefore); // memory grew during the call
  expect(maxAbsDiff(t.data, centralizeReference(input, shape, "out-first"))).toBeLessThanOrEqual(1e-6);
  expect(maxAbsDiff(big, centralizeReference(bigInput, [16, cols], "out-first"))).toBeLessThanOrEqual(1e-5);
  t.dispose();
});

test("centralizeAll, centralize, gradientStats: memory that cannot grow is a named RangeError, nothing written", () => {
  const shape = [8, 16];
  const t = Tensor.from(randomArray(128, 3, 3), shape);
  const other = Tensor.from(randomArray(64, 4), [4, 16]);
  const cols = beyondMemory() / 16;
  const big = randomArray(16 * cols, 5, 1);
  const before = snapshot([t, other, big]);
  const allocated = linear().allocatedBytes;
  refuseGrowth();
  const calls: [string, () => unknown][] = [
    ["centralizeAll", () => centralizeAll([{ grad: t.data, shape }, other, { grad: big, shape: [16, cols] }])],
    ["centralize", () => centralize(big, [16, cols], { layout: "out-last" })],
    ["gradientStats", () => gradientStats(big, [16, cols])],
  ];
  for (const [name, call] of calls) {
    expect(call, name).toThrow(RangeError);
    expect(call, name).toThrow(new RegExp(`^${name}: linear memory cannot grow to hold \\d+ more bytes`));
    expect(unchanged(before, [t, other, big]), name).toBe(true);
    expect(linear().allocatedBytes, name).toBe(allocated);
  }
  vi.restoreAllMocks();
  centralizeAll([{ grad: t.data, shape }, other]); // still works
  expect(maxAbsDiff(other.data, centralizeReference(new Float32Array(before[1].buffer), [4, 16], "out-first"))).toBeLessThanOrEqual(1e-6);
  t.dispose();
  other.dispose();
});

test("an optimizer's first step over a tensor.data value steps it when making its state grows memory", () => {
  const n = 4096;
  const shape = [16, n / 16];
  const start = randomArray(n, 6);
  const grad = randomArray(n, 7, 0.5);
  const asView = Tensor.from(start, shape);
  const asTensor = Tensor.from(start, shape);
  const a = new Adam([{ value: asView.data, grad: grad.slice(), shape }], { lr: 0.01 });
  const b = new Adam([{ value: asTensor, grad: grad.slice(), shape }], { lr: 0.01 });
  const ballast = exhaustFreeMemory();
  const bufferBefore = asView.data.buffer;
  a.step(); // state m, v: 2n floats, more than memory had: grows it, detaching the view given as value
  expect(asView.data.buffer).not.toBe(bufferBefore);
  b.step();
  expect(sameBits(asView.data, asTensor.data)).toBe(true);
  expect(asView.data[0]).not.toBe(start[0]);
  for (const x of [a, b, asView, asTensor, ...ballast]) x.dispose();
});

test("an optimizer's first step with memory that cannot grow: a named RangeError, nothing changed, the next step is the first", () => {
  const n = 4096;
  const shape = [16, n / 16];
  const w = Tensor.from(randomArray(n, 8), shape);
  const view = Tensor.from(randomArray(64, 9), [8, 8]);
  const params = [
    { value: view.data, grad: randomArray(64, 10, 0.5), shape: [8, 8] },
    { value: w, grad: randomArray(n, 11, 0.5), shape },
  ];
  const opt = new SGD(params, { lr: 0.1, momentum: 0.9, dampening: 0.5 });
  const ballast = exhaustFreeMemory();
  const before = { values: snapshot([view, w]), grads: snapshot(params.map((p) => p.grad)), state: opt.stateDict({ json: true }), allocated: linear().allocatedBytes };
  refuseGrowth();
  expect(() => opt.step()).toThrow(/^SGD\.step: linear memory cannot grow to hold \d+ more bytes/);
  expect(unchanged(before.values, [view, w])).toBe(true);
  expect(unchanged(before.grads, params.map((p) => p.grad))).toBe(true);
  expect({ state: opt.stateDict({ json: true }), allocated: linear().allocatedBytes }).toEqual({ state: before.state, allocated: before.allocated });
  vi.restoreAllMocks();
  // The next step is a first step (buf = d, not μ·buf + (1 − dampening)·d): as a fresh optimizer's.
  const twin = { view: Tensor.from(view.data, [8, 8]), w: Tensor.from(w.data, shape) };
  const fresh = new SGD([{ ...params[0], value: twin.view }, { ...params[1], value: twin.w }], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
  fresh.step();
  params[0].value = view.data; // a view taken after the last growth
  opt.step();
  expect(sameBits(view.data, twin.view.data) && sameBits(w.data, twin.w.data)).toBe(true);
  for (const x of [opt, fresh, view, w, twin.view, twin.w, ...ballast]) x.dispose();
});

/** An Adam over one [16, n/16] parameter after `steps` steps, and its checkpoint. */
function trained(n: number, steps: number) {
  const shape = [16, n / 16];
  const value = Tensor.from(randomArray(n, 12), shape);
  const grad = Tensor.from(randomArray(n, 13, 0.5), shape);
  const opt = new Adam([{ value, grad }], { lr: 0.02, amsgrad: true });
  for (let t = 0; t < steps; t++) opt.step();
  return { shape, value, grad, opt, state: opt.stateDict(), json: opt.stateDict({ json: true }) };
}

test("loadStateDict with buffers that view linear memory loads them when making the state grows memory", () => {
  const n = 4096;
  const source = trained(n, 3);
  // The checkpoint's buffers as tensor.data views; the target's buffers (3n floats) grow memory.
  const holders = ["expAvg", "expAvgSq", "maxExpAvgSq"].map((name) => Tensor.from(source.state.state[0][name] as Float32Array));
  const dict = { ...source.state, state: [{ ...source.state.state[0], expAvg: holders[0].data, expAvgSq: holders[1].data, maxExpAvgSq: holders[2].data }] };
  const target = { value: Tensor.from(source.value.data, source.shape), grad: Tensor.from(source.grad.data, source.shape) };
  const opt = new Adam([target], { lr: 0.5 });
  const ballast = exhaustFreeMemory(); // so making the state grows memory
  const bufferBefore = holders[0].data.buffer;
  opt.loadStateDict(dict);
  expect(holders[0].data.buffer).not.toBe(bufferBefore);
  expect(opt.stateDict({ json: true })).toEqual(source.json);
  source.opt.step();
  opt.step();
  expect(sameBits(target.value.data, source.value.data)).toBe(true);
  for (const x of [opt, source.opt, source.value, source.grad, target.value, target.grad, ...ballast, ...holders]) x.dispose();
});

test("loadStateDict with memory that cannot grow: a named RangeError; lr, steps and buffers unchanged", () => {
  const n = 4096;
  const source = trained(n, 2);
  const target = { value: Tensor.from(randomArray(n, 14), source.shape), grad: Tensor.from(randomArray(n, 15), source.shape) };
  const opt = new Adam([target], { lr: 0.5 });
  opt.step(); // m and v exist; the checkpoint also has maxExpAvgSq (amsgrad), which needs memory
  const ballast = exhaustFreeMemory();
  const before = { state: opt.stateDict({ json: true }), lr: opt.lr, allocated: linear().allocatedBytes };
  const values = snapshot([target.value]);
  refuseGrowth();
  expect(() => opt.loadStateDict(source.state)).toThrow(/^Adam\.loadStateDict: linear memory cannot grow to hold \d+ more bytes/);
  expect({ state: opt.stateDict({ json: true }), lr: opt.lr, allocated: linear().allocatedBytes }).toEqual(before);
  expect(opt.lr).toBe(0.5);
  expect(unchanged(values, [target.value])).toBe(true);
  vi.restoreAllMocks();
  opt.loadStateDict(source.state);
  expect(opt.stateDict({ json: true })).toEqual(source.json);
  for (const x of [opt, source.opt, source.value, source.grad, target.value, target.grad, ...ballast]) x.dispose();
});

test("Tensor.from of a view of linear memory with memory that cannot grow: a named RangeError, nothing changed", () => {
  const t = Tensor.from(randomArray(4096, 16));
  const ballast = exhaustFreeMemory();
  const before = snapshot([t]);
  const allocated = linear().allocatedBytes;
  refuseGrowth();
  expect(() => Tensor.from(t.data)).toThrow(/^Tensor\.from: shape \[\d+\] needs \d+ bytes: linear memory cannot grow/);
  expect(unchanged(before, [t])).toBe(true);
  expect(linear().allocatedBytes).toBe(allocated);
  vi.restoreAllMocks();
  const copy = Tensor.from(t.data); // grows memory: the view's values are read before that
  expect(unchanged(before, [copy])).toBe(true);
  for (const x of [t, copy, ...ballast]) x.dispose();
});
