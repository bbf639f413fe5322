// Issue 10, item 4 and its class: options, parameter groups, params and checkpoints are read as
// own enumerable properties, each exactly once. Inherited keys (prototype pollution) and
// non-enumerable ones are ignored; an unknown own key is still a TypeError.
import { describe, expect, test } from "vitest";
import { Adam, type CentralizeOptions, centralize, centralizeAll, gradientStats, linearSchedule, Lookahead, SGD, Tensor } from "../../src/index.js";
import { disposedAfterEach, expectRefused, withPollution } from "../hostile-fixtures.js";
import { centralizeReference, maxAbsDiff, statsReference } from "../oracle.js";
import { AdamReference, type AdamSettings } from "../optim-oracle.js";
import { randomArray } from "../random.js";

const { made, tensor } = disposedAfterEach();

describe("inherited options are ignored", () => {
  test("Object.prototype.layout does not make centralize run out-last", () => {
    const input = randomArray(6, 1, 2);
    const g = input.slice();
    const t = tensor(input, [2, 3]);
    const all = input.slice();
    withPollution("layout", "out-last", () => {
      centralize(g, [2, 3]);
      centralize(t);
      centralizeAll([{ grad: all, shape: [2, 3] }]);
    });
    const expected = centralizeReference(input, [2, 3], "out-first");
    expect(maxAbsDiff(g, expected)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(t.data, expected)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(all, expected)).toBeLessThanOrEqual(1e-6);
  });

  test("Object.prototype.convOnly does not switch GC off for dense gradients", () => {
    const input = randomArray(12, 2, 2);
    const g = input.slice();
    withPollution("convOnly", true, () => centralize(g, [3, 4]));
    expect(maxAbsDiff(g, centralizeReference(input, [3, 4]))).toBeLessThanOrEqual(1e-6);
  });

  test("Object.prototype.layout does not change gradientStats", () => {
    const input = randomArray(6, 3, 1);
    const stats = withPollution("layout", "out-last", () => gradientStats(input, [2, 3]));
    expect(stats.units).toBe(2);
    expect(maxAbsDiff(stats.mean, statsReference(input, [2, 3]).mean)).toBeLessThanOrEqual(1e-6);
  });

  test("Object.prototype.lr does not let new SGD through without lr", () => {
    const value = tensor(randomArray(4, 4), [4]);
    const grad = tensor(randomArray(4, 5), [4]);
    let error: unknown;
    withPollution("lr", 0.1, () => {
      try {
        new SGD([{ value, grad }]);
      } catch (e) {
        error = e;
      }
    });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^new SGD: options\.lr is required/);
  });

  test("Object.prototype.gc and .params do not change what a parameter or a group is", () => {
    const w0 = randomArray(6, 6, 0, 0.5);
    const g = randomArray(6, 7, 0.3);
    const value = tensor(w0, [2, 3]);
    const grad = tensor(g, [2, 3]);
    const opt = withPollution("params", [], () => new SGD([{ value, grad }], { lr: 1 })); // not a group
    withPollution("gc", false, () => opt.step()); // per-parameter gc stays on
    const centered = centralizeReference(g, [2, 3]);
    const expected = Array.from(w0, (w, i) => w - centered[i]);
    expect(maxAbsDiff(value.data, expected)).toBeLessThanOrEqual(1e-6);
    opt.dispose();
  });

  test("Object.prototype.json does not turn stateDict's buffers into base64", () => {
    const opt = new SGD([{ value: tensor(randomArray(4, 8), [4]), grad: tensor(randomArray(4, 9), [4]) }], { lr: 0.1, momentum: 0.9 });
    opt.step();
    const dict = withPollution("json", true, () => opt.stateDict());
    expect(dict.state[0].momentumBuffer).toBeInstanceOf(Float32Array);
    opt.dispose();
  });

  test("a parameter whose value and grad are inherited is refused by name", () => {
    const value = tensor(randomArray(4, 10), [4]);
    const grad = tensor(randomArray(4, 11), [4]);
    expectRefused(() => new SGD([Object.create({ value, grad })], { lr: 1 }), TypeError, /^new SGD: params\[0\] must be \{ value, grad, shape\?, gc\? \} \(own properties\)/, [value, grad]);
  });
});

describe("non-enumerable and accessor options", () => {
  test("a non-enumerable own option is ignored", () => {
    const input = randomArray(6, 12, 2);
    const g = input.slice();
    const options = {};
    Object.defineProperty(options, "layout", { value: "out-last", enumerable: false });
    centralize(g, [2, 3], options);
    expect(maxAbsDiff(g, centralizeReference(input, [2, 3], "out-first"))).toBeLessThanOrEqual(1e-6);
  });

  test("an own getter option is read exactly once (centralize, new Adam)", () => {
    let reads = 0;
    const input = randomArray(6, 13, 2);
    const g = input.slice();
    centralize(g, [2, 3], {
      get layout() {
        reads++;
        return "out-last" as const;
      },
    });
    expect(reads).toBe(1);
    expect(maxAbsDiff(g, centralizeReference(input, [2, 3], "out-last"))).toBeLessThanOrEqual(1e-6);
    let lrReads = 0;
    const opt = new Adam([{ value: tensor(randomArray(4, 14), [4]), grad: tensor(randomArray(4, 15), [4]) }], {
      get lr() {
        lrReads++;
        return lrReads === 1 ? 1e-3 : -1; // a second read would see an invalid lr
      },
    });
    expect(lrReads).toBe(1);
    expect(opt.lr).toBe(1e-3);
    opt.dispose();
  });

  test("an options Proxy runs its traps once: one ownKeys, one descriptor per string key, symbol keys skipped", () => {
    const calls: string[] = [];
    const target = { layout: "out-last", [Symbol("note")]: "not an option" };
    const options = new Proxy(target, {
      ownKeys(t) {
        calls.push("ownKeys");
        return Reflect.ownKeys(t);
      },
      getOwnPropertyDescriptor(t, key) {
        calls.push(`descriptor ${String(key)}`);
        return Reflect.getOwnPropertyDescriptor(t, key);
      },
      get(t, key, receiver) {
        calls.push(`get ${String(key)}`);
        return Reflect.get(t, key, receiver);
      },
    });
    const input = randomArray(6, 18, 2);
    const g = input.slice();
    centralize(g, [2, 3], options as CentralizeOptions);
    expect(calls).toEqual(["ownKeys", "descriptor layout"]);
    expect(maxAbsDiff(g, centralizeReference(input, [2, 3], "out-last"))).toBeLessThanOrEqual(1e-6);
  });

  test("betas with an own forEach are checked element by element", () => {
    const betas = [5, -3] as [number, number];
    Object.defineProperty(betas, "forEach", { value: () => undefined });
    const value = tensor(randomArray(4, 16), [4]);
    const grad = tensor(randomArray(4, 17), [4]);
    expectRefused(() => new Adam([{ value, grad }], { betas }), RangeError, /^new Adam: options\.betas\[0\] must be in \[0, 1\), got 5/, [value, grad]);
  });

  test("a group's betas getter is read once per step: the betas checked are the betas the kernel gets", () => {
    const w0 = randomArray(6, 18, 0, 0.5);
    const value = tensor(w0, [2, 3]);
    const grad = tensor(new Float32Array(6), [2, 3]);
    const opt = new Adam([{ value, grad }], { lr: 1e-2 });
    let reads = 0;
    Object.defineProperty(opt.paramGroups[0], "betas", {
      enumerable: true,
      configurable: true,
      get: () => (reads++ % 2 === 0 ? [0.9, 0.999] : [5, -3]), // valid, then invalid on a second read
    });
    const ref = new AdamReference([{ value: Float64Array.from(w0), shape: [2, 3] }]);
    const settings: AdamSettings = { lr: 1e-2, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, gc: "gradient", convOnly: false, layout: "out-first", decoupled: false };
    for (let t = 0; t < 3; t++) {
      const g = randomArray(6, 40 + t, 0.3);
      grad.data.set(g);
      reads = 0;
      opt.step();
      expect(reads).toBe(1);
      ref.step([g], [settings]);
    }
    expect(maxAbsDiff(value.data, ref.params[0].value)).toBeLessThanOrEqual(1e-5);
    opt.dispose();
  });

  test("a getter on a checkpoint is read once: the values checked are the values loaded", () => {
    const value = tensor(randomArray(6, 19), [2, 3]);
    const grad = tensor(randomArray(6, 20), [2, 3]);
    const opt = new SGD([{ value, grad }], { lr: 0.1, momentum: 0.9 });
    opt.step();
    const dict = opt.stateDict();
    let reads = 0;
    Object.defineProperty(dict.paramGroups[0], "momentum", { enumerable: true, get: () => (reads++ === 0 ? 0.5 : -7) });
    opt.loadStateDict(dict);
    expect(reads).toBe(1);
    expect(opt.paramGroups[0].momentum).toBe(0.5);
    opt.dispose();
  });

  test("an unknown own option is still a TypeError", () => {
    const g = randomArray(6, 20);
    expectRefused(() => centralize(g, [2, 3], { layuot: "out-last" } as never), TypeError, /^centralize: options\.layuot is not an option/, [g]);
  });
});

describe("checkpoints", () => {
  function trained() {
    const value = tensor(randomArray(6, 21), [2, 3]);
    const grad = tensor(randomArray(6, 22), [2, 3]);
    const opt = new SGD([{ value, grad }], { lr: 0.1, momentum: 0.9 });
    opt.step();
    return { opt, value, grad };
  }

  test('a JSON checkpoint with a "__proto__" key is refused by name', () => {
    const { opt, value, grad } = trained();
    const json = JSON.stringify(opt.stateDict({ json: true }));
    const before = opt.stateDict();
    const inGroup = JSON.parse(json.replace('"lr":', '"__proto__":{"lr":1},"lr":'));
    expectRefused(() => opt.loadStateDict(inGroup), TypeError, /^SGD\.loadStateDict: state\.paramGroups\[0\]\.__proto__ is not a hyperparameter of SGD/, [value, grad]);
    const atTop = JSON.parse(json.replace('"optimizer":', '"__proto__":{"step":1},"optimizer":'));
    expectRefused(() => opt.loadStateDict(atTop), TypeError, /^SGD\.loadStateDict: state\.__proto__ is not a field of a checkpoint/, [value, grad]);
    const inEntry = JSON.parse(json.replace('"state":[{"step":', '"state":[{"__proto__":{"step":1},"step":'));
    expect(Object.hasOwn(inEntry.state[0], "__proto__")).toBe(true);
    expectRefused(() => opt.loadStateDict(inEntry), TypeError, /^SGD\.loadStateDict: state\.state\[0\]\.__proto__ is not a state buffer of SGD/, [value, grad]);
    expect(opt.stateDict()).toEqual(before);
    opt.dispose();
  });

  test("a checkpoint's inherited fields are not read", () => {
    const { opt, value, grad } = trained();
    const dict = opt.stateDict();
    const hollow = Object.create(dict) as typeof dict; // every field inherited
    expectRefused(() => opt.loadStateDict(hollow), TypeError, /^SGD\.loadStateDict: state\.optimizer is undefined, expected "SGD"/, [value, grad]);
    opt.dispose();
  });
});

describe("Lookahead and schedules read their options and checkpoints the same way", () => {
  function inner() {
    const value = tensor(randomArray(6, 30), [2, 3]);
    const grad = tensor(randomArray(6, 31), [2, 3]);
    return { value, grad, opt: new SGD([{ value, grad }], { lr: 0.1 }) };
  }

  test("Object.prototype.k does not change Lookahead's k", () => {
    const { opt } = inner();
    const la = withPollution("k", 1, () => new Lookahead(opt, { alpha: 0.5 }));
    expect(la.stateDict().k).toBe(5);
    la.dispose();
  });

  test("Object.prototype.json does not turn Lookahead's stateDict into base64", () => {
    const { opt } = inner();
    const la = new Lookahead(opt);
    la.step();
    const dict = withPollution("json", true, () => la.stateDict());
    expect(dict.slow[0]).toBeInstanceOf(Float32Array);
    expect(dict.inner.state[0].step).toBe(1);
    la.dispose();
  });

  test("a Lookahead checkpoint whose fields are inherited is refused by name", () => {
    const { value, grad, opt } = inner();
    const la = new Lookahead(opt);
    la.step();
    const hollow = Object.create(la.stateDict());
    expectRefused(() => la.loadStateDict(hollow), TypeError, /^Lookahead\(SGD\)\.loadStateDict: state\.optimizer is undefined|loadStateDict: state\.optimizer is undefined/, [value, grad]);
    la.dispose();
  });

  test("Object.prototype.transitionBegin does not delay a linear schedule", () => {
    const schedule = withPollution("transitionBegin", 50, () => linearSchedule({ initValue: 0, endValue: 1, transitionSteps: 100 }));
    expect(schedule(50)).toBeCloseTo(0.5, 12); // (0 − 1)·(1 − 50/100) + 1, the schedule starting at step 0
  });
});
