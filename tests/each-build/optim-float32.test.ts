// Hyperparameters are checked as the kernels see them, in float32 (issue 10, item 10): a value
// that passes in float64 but is 0, 1 or Infinity once rounded to float32 is a RangeError naming
// it, wherever it comes from (options, a group, the lr setter, a checkpoint), and nothing changes.
import { expect, test } from "vitest";
import { Adam, AdamW, SGD } from "../../src/index.js";
import { randomArray } from "../random.js";

const param = () => ({ value: randomArray(12, 1), grad: randomArray(12, 2, 0.5), shape: [3, 4] });
const escape = (text: string) => text.replace(/[[\].+*?()^$|\\]/g, "\\$&");
const float32Message = (name: string, value: number, rounded: number) =>
  new RegExp(`${escape(name)} must be .* in float32, as the kernels compute, got ${escape(String(value))}, which is ${rounded} in float32`);

test("eps 1e-46 (0 in float32) is refused; eps 1e-45 (the smallest float32) is accepted", () => {
  expect(() => new Adam([param()], { eps: 1e-46 })).toThrow(RangeError);
  expect(() => new Adam([param()], { eps: 1e-46 })).toThrow(/^new Adam: options\.eps must be a finite number > 0 in float32/);
  expect(() => new AdamW([{ params: [param()], eps: 1e-46 }])).toThrow(float32Message("params[0].eps", 1e-46, 0));
  const ok = new Adam([param()], { eps: 1e-45 });
  ok.dispose();
});

test("a zero gradient with the smallest accepted eps steps by 0, not NaN", () => {
  const p = { value: randomArray(12, 3), grad: new Float32Array(12), shape: [3, 4] };
  const before = p.value.slice();
  const opt = new Adam([p], { eps: 1e-45, gc: false });
  opt.step();
  expect(p.value).toEqual(before);
  opt.dispose();
});

test("betas that round to 1 in float32 are refused (1 − β would be 0 in the kernel's β·m)", () => {
  expect(() => new Adam([param()], { betas: [0.99999999, 0.999] })).toThrow(float32Message("options.betas[0]", 0.99999999, 1));
  expect(() => new Adam([param()], { betas: [0.9, 1 - 1e-9] })).toThrow(/^new Adam: options\.betas\[1\] must be in \[0, 1\) in float32/);
  new Adam([param()], { betas: [0.9, 0.9999999] }).dispose(); // 1 − 6e-8 is below 1 in float32
});

test("values that overflow float32 are refused: lr, momentum, weightDecay", () => {
  expect(() => new SGD([param()], { lr: 1e39 })).toThrow(float32Message("options.lr", 1e39, Infinity));
  expect(() => new SGD([param()], { lr: 0.1, momentum: 1e39 })).toThrow(float32Message("options.momentum", 1e39, Infinity));
  expect(() => new Adam([param()], { weightDecay: 4e38 })).toThrow(float32Message("options.weightDecay", 4e38, Infinity));
  new SGD([param()], { lr: 3e38 }).dispose(); // finite in float32
});

test("the lr setter, a changed group and a checkpoint are checked the same way, and change nothing", () => {
  const p = param();
  const opt = new Adam([p], { lr: 0.01 });
  expect(() => {
    opt.lr = 1e39;
  }).toThrow(float32Message("lr", 1e39, Infinity));
  expect(opt.lr).toBe(0.01);
  opt.step();
  const state = opt.stateDict({ json: true });
  const values = p.value.slice();
  opt.paramGroups[0].eps = 1e-50;
  expect(() => opt.step()).toThrow(float32Message("paramGroups[0].eps", 1e-50, 0));
  expect(p.value).toEqual(values);
  opt.paramGroups[0].eps = 1e-8;
  const bad = { ...state, paramGroups: [{ ...state.paramGroups[0], eps: 1e-46 }] };
  expect(() => opt.loadStateDict(bad)).toThrow(float32Message("state.paramGroups[0].eps", 1e-46, 0));
  expect(opt.stateDict({ json: true })).toEqual(state);
  opt.dispose();
});
