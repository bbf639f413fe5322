// Bad input: a named TypeError/RangeError, thrown before any byte is written.
import { expect, test } from "vitest";
import { centralize, centralizeAll, gradientStats, SGD, Tensor } from "../../src/index.js";
import { randomArray } from "../random.js";

type Call = () => unknown;

/** Runs `call`, expects `type` with a message matching `names`, and checks `buffers` are unchanged. */
function rejects(call: Call, type: typeof TypeError | typeof RangeError, names: RegExp, buffers: Float32Array[] = []) {
  const before = buffers.map((b) => b.slice());
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(names);
  buffers.forEach((b, i) => expect(b).toEqual(before[i]));
}

const cases: [string, (g: Float32Array) => Call, typeof TypeError | typeof RangeError, RegExp][] = [
  ["shape product ≠ length", (g) => () => centralize(g, [3, 5]), RangeError, /shape \[3, 5\] has 15 elements but grad has 12/],
  ["non-integer dim", (g) => () => centralize(g, [3, 4.5]), RangeError, /shape\[1\] must be a non-negative integer, got 4\.5/],
  ["negative dim", (g) => () => centralize(g, [-3, -4]), RangeError, /shape\[0\] must be a non-negative integer/],
  ["NaN dim", (g) => () => centralize(g, [NaN, 4]), RangeError, /shape\[0\].*NaN/],
  ["string dim", (g) => () => centralize(g, ["3", 4] as never), TypeError, /shape\[0\] must be a number, got string/],
  ["shape not an array", (g) => () => centralize(g, 12 as never), TypeError, /shape must be an array/],
  ["shape missing", (g) => () => centralize(g, undefined as never), TypeError, /shape of grad is required/],
  ["unknown layout", (g) => () => centralize(g, [3, 4], { layout: "nchw" as never }), RangeError, /options\.layout must be "out-first" or "out-last", got "nchw"/],
  ["unknown option", (g) => () => centralize(g, [3, 4], { axis: 1 } as never), TypeError, /options\.axis is not an option/],
  ["convOnly not boolean", (g) => () => centralize(g, [3, 4], { convOnly: 1 } as never), TypeError, /options\.convOnly must be a boolean/],
  ["options not an object", (g) => () => centralize(g, [3, 4], "out-last" as never), TypeError, /options must be an object/],
  ["stats: bad layout", (g) => () => gradientStats(g, [3, 4], { layout: "rows" as never }), RangeError, /gradientStats: options\.layout/],
  ["stats: bad shape", (g) => () => gradientStats(g, [5]), RangeError, /gradientStats: shape \[5\] has 5 elements but grad has 12/],
];

test.each(cases)("%s", (_, makeCall, type, names) => {
  const g = randomArray(12, 1, 3);
  rejects(makeCall(g), type, names, [g]);
});

test("grad that is not a Float32Array", () => {
  rejects(() => centralize([1, 2, 3, 4] as never, [2, 2]), TypeError, /grad must be a Float32Array or a Tensor, got an array/);
  rejects(() => centralize(new Float64Array(4) as never, [2, 2]), TypeError, /got Float64Array/);
  rejects(() => gradientStats(null as never, [2, 2]), TypeError, /gradientStats: grad must be a Float32Array or a Tensor, got null/);
});

test("Tensor arguments: disposed, or given a shape", () => {
  const t = Tensor.from(randomArray(12, 2), [3, 4]);
  rejects(() => centralize(t, [3, 4] as never), TypeError, /carries its shape/, [t.data]);
  rejects(() => centralize(t, { layout: "x" as never }), RangeError, /options\.layout/, [t.data]);
  t.dispose();
  rejects(() => centralize(t), TypeError, /centralize: grad is a disposed Tensor/);
  rejects(() => gradientStats(t), TypeError, /disposed Tensor/);
});

test("Tensor construction", () => {
  rejects(() => new Tensor([2, -1]), RangeError, /new Tensor: shape\[1\]/);
  rejects(() => Tensor.from(new Float32Array(5), [2, 2]), RangeError, /Tensor\.from: shape \[2, 2\] has 4 elements but values has 5/);
  rejects(() => Tensor.from(3 as never), TypeError, /Tensor\.from: values must be/);
});

test("centralizeAll validates every entry before touching any", () => {
  const first = randomArray(12, 3, 5);
  const second = Tensor.from(randomArray(12, 4, 5), [3, 4]);
  const gone = Tensor.from(randomArray(4, 5), [2, 2]);
  gone.dispose();
  const list = (bad: unknown) => [{ grad: first, shape: [3, 4] }, second, bad] as never;
  rejects(() => centralizeAll(list({ grad: new Float32Array(6), shape: [4, 2] })), RangeError, /gradients\[2\]\.grad/, [first, second.data]);
  rejects(() => centralizeAll(list(gone)), TypeError, /gradients\[2\] is a disposed Tensor/, [first, second.data]);
  rejects(() => centralizeAll(list(42)), TypeError, /gradients\[2\] must be a Tensor or \{ grad, shape \}/, [first, second.data]);
  rejects(() => centralizeAll(list({ grad: new Float32Array(4) })), TypeError, /shape of gradients\[2\]\.grad is required/, [first, second.data]);
  rejects(() => centralizeAll([{ grad: first, shape: [3, 4] }], { layout: "?" as never }), RangeError, /centralizeAll: options\.layout/, [first]);
  rejects(() => centralizeAll("grads" as never), TypeError, /gradients must be an array/);
  second.dispose();
});

test("an optimizer parameter given as a view of linear memory that growth detached is named", () => {
  const w = Tensor.from(randomArray(16, 7), [4, 4]);
  const g = Tensor.from(randomArray(16, 8), [4, 4]);
  const opt = new SGD([{ value: w.data, grad: g, shape: [4, 4] }], { lr: 0.1 });
  opt.step(); // fine while the view is live
  const big = new Tensor([Math.ceil(w.data.buffer.byteLength / 4) + 70_000]); // grows memory
  const before = w.data.slice();
  if (process.env.GC_BUILD === "threads") {
    // Shared memory never detaches a view: the old one still is w's values, stepped in place.
    opt.step();
    expect(w.data).not.toEqual(before);
  } else {
    rejects(() => opt.step(), TypeError, /SGD\.step: params\[0\]\.value has no values: a view of linear memory detached/);
    expect(w.data).toEqual(before);
  }
  for (const t of [w, g, big]) t.dispose();
  opt.dispose();
});

