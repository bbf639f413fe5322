// Issue 10, item 14: what was silently accepted is refused by name, and what a PyTorch user
// passes works as in torch: iterables of params, addParamGroup, step(closure). Results are checked
// against the float64 references (tests/optim-oracle.ts).
import { describe, expect, test } from "vitest";
import { Adam, type Param, SGD, Tensor } from "../../src/index.js";
import { disposedAfterEach, expectRefused } from "../hostile-fixtures.js";
import { maxAbsDiff } from "../oracle.js";
import { AdamReference, type AdamSettings, SgdReference, type SgdSettings } from "../optim-oracle.js";
import { randomArray } from "../random.js";

const { made, tensor } = disposedAfterEach();

const SGD_SETTINGS: SgdSettings = { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, gc: "gradient", convOnly: false, layout: "out-first" };
const ADAM_SETTINGS: AdamSettings = { lr: 1e-2, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, gc: "gradient", convOnly: false, layout: "out-first", decoupled: false };

/** Two parameters (a [3, 4] Tensor and a [5] Float32Array) with their float64 starting points. */
function model(seed: number) {
  const w = randomArray(12, seed, 0, 0.5);
  const b = randomArray(5, seed + 1, 0, 0.5);
  const params: Param[] = [
    { value: tensor(w, [3, 4]), grad: tensor(new Float32Array(12), [3, 4]) },
    { value: b.slice(), grad: new Float32Array(5), shape: [5] },
  ];
  const reference = [
    { value: Float64Array.from(w), shape: [3, 4] },
    { value: Float64Array.from(b), shape: [5] },
  ];
  const grads = (t: number) => [randomArray(12, seed * 100 + t, 0.3), randomArray(5, seed * 100 + t + 50, 0.3)];
  const setGrads = (g: Float32Array[]) => params.forEach((p, i) => (p.grad instanceof Tensor ? p.grad.data : p.grad).set(g[i]));
  const values = () => params.map((p) => (p.value instanceof Tensor ? p.value.data : p.value));
  return { params, reference, grads, setGrads, values };
}

describe("Tensor.from refuses what is not a flat list of numbers", () => {
  test.each<[string, unknown, RegExp]>([
    ["nested arrays", [[1, 2, 3], [4, 5, 9]], /^Tensor\.from: values\[0\] must be a number, got an array \(nested arrays are not flattened: pass the flat values and the shape/],
    ["strings", ["a", "b"], /^Tensor\.from: values\[0\] must be a number, got string "a"/],
    ["numeric strings", ["1", "x"], /^Tensor\.from: values\[0\] must be a number, got string "1"/],
    ["a number after numbers", [1, 2, "3"], /^Tensor\.from: values\[2\] must be a number, got string "3"/],
    ["a hole", [1, , 3], /^Tensor\.from: values\[1\] must be a number, got undefined/], // eslint-disable-line no-sparse-arrays
  ])("%s", (_, values, message) => {
    const neighbour = tensor(randomArray(4, 1), [4]);
    expectRefused(() => Tensor.from(values as never), TypeError, message, [neighbour]);
  });

  test("numbers, typed arrays and Tensors are copied", () => {
    const a = tensor(Float32Array.from([1, 2, 3, 4, 5, 9]), [2, 3]);
    const fromNumbers = Tensor.from([1, 2.5, -3]);
    const fromFloat64 = Tensor.from(new Float64Array([0.5, 2]));
    made.push(fromNumbers, fromFloat64);
    expect(Array.from(fromNumbers.data)).toEqual([1, 2.5, -3]);
    expect(Array.from(fromFloat64.data)).toEqual([0.5, 2]);
    const copy = Tensor.from(a);
    made.push(copy);
    expect(copy.shape).toEqual([2, 3]);
    expect(copy.data).toEqual(a.data);
    expect(copy.byteOffset).not.toBe(a.byteOffset);
  });
});

describe("params as iterables", () => {
  test.each([
    ["a Set", (p: Param[]) => new Set(p)],
    [
      "a generator",
      (p: Param[]) =>
        (function* () {
          yield* p;
        })(),
    ],
    ["a group whose params are a Set", (p: Param[]) => [{ params: new Set(p) }]],
  ])("SGD over %s steps as the float64 reference", (_, wrap) => {
    const m = model(3);
    const opt = new SGD(wrap(m.params) as never, { lr: 0.1, momentum: 0.9 });
    const ref = new SgdReference(m.reference);
    for (let t = 0; t < 3; t++) {
      const g = m.grads(t);
      m.setGrads(g);
      opt.step();
      ref.step(g, [SGD_SETTINGS, SGD_SETTINGS]);
    }
    m.values().forEach((v, i) => expect(maxAbsDiff(v, ref.params[i].value)).toBeLessThanOrEqual(1e-5));
    opt.dispose();
  });
});

describe("addParamGroup", () => {
  test("a group added later steps with its own lr and the constructor's other options", () => {
    const m = model(5);
    const opt = new Adam([m.params[0]], { lr: 1e-2 });
    opt.addParamGroup({ params: [m.params[1]], lr: 5e-2 });
    expect(opt.paramGroups.length).toBe(2);
    expect(opt.paramGroups[1].lr).toBe(5e-2);
    expect(opt.paramGroups[1].betas).toEqual([0.9, 0.999]);
    const ref = new AdamReference(m.reference);
    for (let t = 0; t < 3; t++) {
      const g = m.grads(t);
      m.setGrads(g);
      opt.step();
      ref.step(g, [ADAM_SETTINGS, { ...ADAM_SETTINGS, lr: 5e-2 }]);
    }
    m.values().forEach((v, i) => expect(maxAbsDiff(v, ref.params[i].value)).toBeLessThanOrEqual(1e-5));
    const dict = opt.stateDict();
    expect(dict.paramGroups.map((g) => g.params)).toEqual([[0], [1]]);
    opt.dispose();
  });

  test("a bad group is refused by name and changes nothing", () => {
    const m = model(7);
    const opt = new Adam([m.params[0]]);
    const extra = tensor(randomArray(4, 8), [4]);
    const cases: [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      [{ params: [m.params[0]] }, TypeError, /^Adam\.addParamGroup: group\.params\[0\]\.value appears in more than one parameter/],
      [{ params: [m.params[1]], lr: -1 }, RangeError, /^Adam\.addParamGroup: group\.lr must be a finite number ≥ 0/],
      [{ params: [m.params[1]], momentum: 0.9 }, TypeError, /^Adam\.addParamGroup: group\.momentum is not an option of Adam/],
      [{ params: [] }, RangeError, /^Adam\.addParamGroup: group\.params is empty/],
      [{ lr: 1 }, TypeError, /^Adam\.addParamGroup: group\.params is required/],
      [{ params: [{ value: extra, grad: m.params[0].value }] }, RangeError, /^Adam\.addParamGroup: group\.params\[0\]\.grad has shape \[3, 4\], expected \[4\]/],
    ];
    for (const [group, type, message] of cases) {
      expectRefused(() => opt.addParamGroup(group as never), type, message, [extra]);
      expect(opt.paramGroups.length).toBe(1);
    }
    opt.dispose();
  });
});

describe("step(closure)", () => {
  test("calls the closure first, steps with the gradients it computed, and returns its loss", () => {
    const m = model(9);
    const opt = new SGD(m.params, { lr: 0.1, momentum: 0.9 });
    const ref = new SgdReference(m.reference);
    for (let t = 0; t < 3; t++) {
      const g = m.grads(t);
      let calls = 0;
      const loss = opt.step(() => {
        calls++;
        m.setGrads(g); // the "backward pass"
        return 10 - t;
      });
      expect(calls).toBe(1);
      expect(loss).toBe(10 - t);
      ref.step(g, [SGD_SETTINGS, SGD_SETTINGS]);
    }
    m.values().forEach((v, i) => expect(maxAbsDiff(v, ref.params[i].value)).toBeLessThanOrEqual(1e-5));
    expect(opt.step()).toBeUndefined();
    opt.dispose();
  });
});
