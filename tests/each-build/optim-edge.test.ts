// Edge cases of the optimizers: memory growth between steps, memory that cannot grow, Float32Array
// views of linear memory, empty and scalar tensors, NaN in a gradient.
import { expect, test, vi } from "vitest";
import { Adam, AdamW, SGD, Tensor } from "../../src/index.js";
import { runtime } from "../../src/runtime.js";
import { AdamReference, type AdamSettings } from "../optim-oracle.js";
import { bits, gradientSequence, makeModel } from "../optim-fixtures.js";
import type { Layout } from "../oracle.js";
import { randomArray } from "../random.js";

test("memory growth between steps leaves the trajectory bit for bit unchanged", () => {
  const grads = gradientSequence(6, 2);
  const run = (grow: boolean) => {
    const model = makeModel(2);
    const opt = new AdamW(model.params, { lr: 0.01, gc: "update", amsgrad: true });
    const ballast: Tensor[] = [];
    for (const g of grads) {
      if (grow) ballast.push(new Tensor([1 << 20])); // 4 MiB each: memory.buffer is replaced
      model.setGrads(g);
      opt.step();
    }
    const values = bits(model.values());
    opt.dispose();
    model.dispose();
    ballast.forEach((t) => t.dispose());
    return values;
  };
  expect(run(true)).toEqual(run(false));
});

test("a Float32Array view of linear memory (tensor.data) is stepped in place, like the Tensor", () => {
  const shape = [6, 5];
  const start = randomArray(30, 1);
  const g = randomArray(30, 2, 0.5);
  const asTensor = Tensor.from(start, shape);
  const asView = Tensor.from(start, shape);
  const a = new SGD([{ value: asTensor, grad: Float32Array.from(g), shape }], { lr: 0.1, momentum: 0.9 });
  const b = new SGD([{ value: asView.data, grad: Float32Array.from(g), shape }], { lr: 0.1, momentum: 0.9 });
  for (let t = 0; t < 3; t++) {
    a.step();
    b.step();
  }
  expect(bits([asView.data])).toEqual(bits([asTensor.data]));
  expect(asView.data[0]).not.toBe(start[0]);
  a.dispose();
  b.dispose();
  asTensor.dispose();
  asView.dispose();
});

test("empty tensors and scalars step without error; empty ones stay empty", () => {
  const shapes = [[0, 5], [3, 0], [0], [], [2, 0, 3, 3]];
  for (const layout of ["out-first", "out-last"] as Layout[]) {
    const params = shapes.map((shape) => ({ value: new Tensor(shape), grad: Tensor.from(new Float32Array(shape.reduce((x, y) => x * y, 1)).fill(1), shape) }));
    for (const opt of [new SGD(params, { lr: 0.1, momentum: 0.9, layout }), new Adam(params, { layout, gc: "update" })]) {
      opt.step();
      opt.step();
      const state = opt.stateDict();
      expect(state.state.map((s) => s.step)).toEqual(shapes.map(() => 2));
      opt.dispose();
    }
    // the scalar moved by SGD (−0.1, then −0.1 − 0.09) and Adam (−1e-3 twice); the rest are empty
    expect(params[3].value.data[0]).toBeCloseTo(-0.1 - 0.19 - 2e-3, 6);
    params.forEach((p) => (p.value.dispose(), p.grad.dispose()));
  }
});

test("a NaN in a gradient makes its unit NaN (as the float64 formula does) and nothing else", () => {
  for (const layout of ["out-first", "out-last"] as Layout[]) {
    const shape = [4, 6];
    const w0 = randomArray(24, 3);
    const g = randomArray(24, 4, 0.2);
    g[7] = NaN; // out-first: row 1; out-last: column 1
    const w = Float32Array.from(w0);
    const opt = new Adam([{ value: w, grad: g, shape }], { lr: 0.01, layout });
    opt.step();
    const reference = new AdamReference([{ value: Float64Array.from(w0), shape }]);
    const settings: AdamSettings = {
      lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false,
      gc: "gradient", convOnly: false, layout, decoupled: false,
    };
    reference.step([g], [settings]);
    const unitOf = (i: number) => (layout === "out-first" ? Math.floor(i / 6) : i % 6);
    w.forEach((x, i) => {
      if (unitOf(i) === 1) expect(x).toBeNaN();
      else expect(x).toBeCloseTo(reference.params[0].value[i], 6);
    });
    expect(reference.params[0].value.filter(Number.isNaN).length).toBe(layout === "out-first" ? 6 : 4);
    opt.dispose();
  }
});

test("a step that fails after making its state (memory cannot grow) frees it: the next step is still the first", () => {
  const { memory } = runtime("test");
  const params = () => [
    { value: randomArray(24, 1), grad: randomArray(24, 2, 0.5), shape: [4, 6] },
    { value: randomArray(7, 3), grad: randomArray(7, 4, 0.5), shape: [7] },
  ];
  // SGD with dampening: a first step sets buf = d, a later one buf = μ·buf + (1 − dampening)·d
  const run = (fail: boolean) => {
    const p = params();
    const opt = new SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    if (fail) {
      const snapshot = () => ({ allocated: memory.allocatedBytes, state: opt.stateDict(), values: p.map((x) => Float32Array.from(x.value)) });
      const before = snapshot();
      vi.spyOn(memory, "stagingBlock").mockImplementationOnce(() => {
        throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded");
      });
      expect(() => opt.step()).toThrow(/Maximum memory size exceeded/);
      vi.restoreAllMocks();
      expect(snapshot()).toEqual(before);
    }
    opt.step();
    opt.step();
    const result = { values: bits(p.map((x) => x.value)), state: opt.stateDict() };
    opt.dispose();
    return result;
  };
  expect(run(true)).toEqual(run(false));
});

test("a step that fails while making its state (the second parameter's buffer does not fit) frees the first's", () => {
  const { memory } = runtime("test");
  new Tensor([1024]).dispose(); // a free block for parameter 0's buffer
  const big = memory.byteLength / 4 + 4; // more than all of memory
  const small = { value: randomArray(24, 1), grad: randomArray(24, 2, 0.5), shape: [4, 6] };
  const opt = new SGD([small, { value: new Float32Array(big), grad: new Float32Array(big), shape: [big] }], { lr: 0.1, momentum: 0.9 });
  const before = { allocated: memory.allocatedBytes, state: opt.stateDict(), values: Float32Array.from(small.value) };
  const allocatedAtGrowth: number[] = [];
  vi.spyOn(WebAssembly.Memory.prototype, "grow").mockImplementation(() => {
    allocatedAtGrowth.push(memory.allocatedBytes);
    throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded");
  });
  expect(() => opt.step()).toThrow(/^SGD\.step: linear memory cannot grow to hold \d+ more bytes/);
  vi.restoreAllMocks();
  expect(allocatedAtGrowth).toEqual([before.allocated + 24 * 4]); // parameter 0's buffer had been made
  expect({ allocated: memory.allocatedBytes, state: opt.stateDict(), values: small.value }).toEqual(before);
  opt.dispose();
});
