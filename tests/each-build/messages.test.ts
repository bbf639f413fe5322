// Issue 10, item 13: every refusal names the function and the argument in the package's words
// (not an engine message such as "this is not a typed array" or "check is not a function"), and
// changes nothing.
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, test } from "vitest";
import { Adam, centralize, centralizeAll, gradientStats, SGD, Tensor } from "../../src/index.js";
import { disposedAfterEach, expectRefused } from "../hostile-fixtures.js";
import { randomArray } from "../random.js";

const { made, tensor } = disposedAfterEach();

describe("proxies", () => {
  test("a Proxy around a Float32Array is refused by name", () => {
    const g = randomArray(6, 1);
    const proxy = new Proxy(g, {});
    const posing = /got an object posing as a typed array \(a Proxy around one/;
    expectRefused(() => centralize(proxy, [2, 3]), TypeError, new RegExp(`^centralize: grad must be a Float32Array or a Tensor, ${posing.source}`), [g]);
    expectRefused(() => gradientStats(proxy, [2, 3]), TypeError, /^gradientStats: grad must be a Float32Array or a Tensor, got an object posing as a typed array/, [g]);
    expectRefused(() => centralizeAll([{ grad: proxy, shape: [2, 3] }]), TypeError, /^centralizeAll: gradients\[0\]\.grad must be a Float32Array or a Tensor, got an object posing/, [g]);
    expectRefused(() => Tensor.from(proxy), TypeError, /^Tensor\.from: values must be a Float32Array, an array of numbers or a Tensor, got an object posing as a typed array/, [g]);
    expectRefused(() => new SGD([{ value: proxy, grad: new Float32Array(6), shape: [2, 3] }], { lr: 1 }), TypeError, /^new SGD: params\[0\]\.value must be a Tensor or a Float32Array, got an object posing/, [g]);
  });

  test("a Proxy around a Tensor is refused by name", () => {
    const t = tensor(randomArray(6, 2), [2, 3]);
    expectRefused(() => centralize(new Proxy(t, {})), TypeError, /^centralize: grad must be a Float32Array or a Tensor, got an object posing as a Tensor/, [t]);
  });

  test("Tensor methods called on a non-Tensor say so", () => {
    const getter = Object.getOwnPropertyDescriptor(Tensor.prototype, "shape")!.get!;
    expect(() => getter.call({})).toThrow(/^Tensor\.shape: called on Object, not on a Tensor/);
    expect(() => Tensor.prototype.dispose.call(new Proxy(tensor(new Float32Array(2), [2]), {}))).toThrow(/^Tensor\.dispose: called on an object posing as a Tensor/);
  });
});

describe("Tensor.from", () => {
  test.each<[string, unknown, typeof TypeError | typeof RangeError, RegExp]>([
    ["a bigint", [1n], TypeError, /^Tensor\.from: values\[0\] must be a number, got bigint 1n/],
    ["a BigInt64Array", new BigInt64Array(2), TypeError, /^Tensor\.from: values\[0\] must be a number, got bigint 0n/],
    ["a negative length", { length: -1 }, RangeError, /^Tensor\.from: values\.length must be a non-negative integer, got -1/],
    ["a fractional length", { length: 1.5 }, RangeError, /^Tensor\.from: values\.length must be a non-negative integer, got 1\.5/],
    ["a huge length", { length: 2 ** 40 }, RangeError, /^Tensor\.from: values has 1099511627776 elements, more than linear memory can hold/],
    ["a number", 3, TypeError, /^Tensor\.from: values must be a Float32Array, an array of numbers or a Tensor, got number 3/],
    ["a disposed Tensor", "disposed", TypeError, /^Tensor\.from: values is a disposed Tensor/],
  ])("%s", (_, given, type, message) => {
    let values = given;
    if (given === "disposed") {
      const t = Tensor.from([1, 2]);
      t.dispose();
      values = t;
    }
    const neighbour = tensor(randomArray(4, 3), [4]);
    expectRefused(() => Tensor.from(values as never), type, message, [neighbour]);
  });
});

describe("TF.js tensors", () => {
  test("a tf.Tensor given to centralize, centralizeAll, gradientStats or an optimizer points to the tfjs entry", () => {
    const g = tf.tensor2d([[1, 2, 3], [4, 5, 9]]);
    const hint = /a TF\.js tensor \(for TF\.js tensors use centralizeTensor or withGradientCentralization from gradient-centralization\/tfjs\)/;
    expectRefused(() => centralize(g as never), TypeError, new RegExp(`^centralize: grad must be a Float32Array or a Tensor, got ${hint.source}`));
    expectRefused(() => centralize(g as never, [2, 3]), TypeError, hint);
    expectRefused(() => gradientStats(g as never), TypeError, new RegExp(`^gradientStats: grad .*${hint.source}`));
    expectRefused(() => centralizeAll([g as never]), TypeError, new RegExp(`^centralizeAll: gradients\\[0\\] .*${hint.source}`));
    expectRefused(() => new Adam([{ value: g as never, grad: g as never }]), TypeError, new RegExp(`^new Adam: params\\[0\\]\\.value .*${hint.source}`));
    expect(Array.from(g.dataSync())).toEqual([1, 2, 3, 4, 5, 9]);
    g.dispose();
  });
});

describe("optimizers", () => {
  test("params that are neither a list nor an iterable", () => {
    expectRefused(() => new Adam(42 as never), TypeError, /^new Adam: params must be an array or an iterable of parameters or parameter groups, got number 42/);
    expectRefused(() => new Adam({} as never), TypeError, /^new Adam: params must be an array or an iterable .*, got Object/);
  });

  test("a closure that is not a function, or returns a Promise", () => {
    const value = tensor(randomArray(4, 4), [4]);
    const grad = tensor(randomArray(4, 5), [4]);
    const opt = new SGD([{ value, grad }], { lr: 0.1 });
    expectRefused(() => opt.step(3 as never), TypeError, /^SGD\.step: closure must be a function, got number 3/, [value, grad]);
    expectRefused(() => opt.step(async () => 1), TypeError, /^SGD\.step: closure returned a Promise; step\(\) is synchronous/, [value, grad]);
    opt.dispose();
  });

  test.each([
    ["zero_grad", (o: SGD) => o.zero_grad(), /^SGD\.zero_grad: this package uses camelCase names; use zeroGrad\(\)/],
    ["state_dict", (o: SGD) => o.state_dict(), /^SGD\.state_dict: .*use stateDict\(\)/],
    ["load_state_dict", (o: SGD) => o.load_state_dict({}), /^SGD\.load_state_dict: .*use loadStateDict\(state\)/],
    ["add_param_group", (o: SGD) => o.add_param_group({}), /^SGD\.add_param_group: .*use addParamGroup\(group\)/],
    ["param_groups", (o: SGD) => o.param_groups, /^SGD\.param_groups: .*use paramGroups/],
  ])("%s names the camelCase method and changes nothing", (_, call, message) => {
    const value = tensor(randomArray(4, 6), [4]);
    const grad = tensor(randomArray(4, 7), [4]);
    const opt = new SGD([{ value, grad }], { lr: 0.1, momentum: 0.9 });
    opt.step();
    const before = opt.stateDict();
    expectRefused(() => call(opt), TypeError, message, [value, grad]);
    expect(opt.stateDict()).toEqual(before);
    opt.dispose();
  });
});

describe("values that throw when read", () => {
  const revoked = () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };
  const boom = new Error("boom");
  const throwing = () => ({
    get layout(): never {
      throw boom;
    },
  });

  test.each<[string, (g: Float32Array, t: Tensor) => unknown, RegExp]>([
    ["centralize options (revoked Proxy)", (g) => centralize(g, [2, 2], revoked() as never), /^centralize: options could not be read: .*revoked/],
    ["centralize options (throwing getter)", (_, t) => centralize(t, throwing() as never), /^centralize: options could not be read: boom/],
    ["centralizeAll entry (revoked Proxy)", (g) => centralizeAll([revoked(), { grad: g, shape: [2, 2] }] as never), /^centralizeAll: gradients\[0\] could not be read: .*revoked/],
    ["Tensor.from values (revoked Proxy)", () => Tensor.from(revoked() as never), /^Tensor\.from: values could not be read: .*revoked/],
    ["new SGD params (revoked Proxy)", () => new SGD(revoked() as never, { lr: 1 }), /^new SGD: params could not be read: .*revoked/],
    ["new SGD options (throwing getter)", (_, t) => new SGD([{ value: t, grad: new Float32Array(4) }], throwing() as never), /^new SGD: options could not be read: boom/],
    ["new Adam betas (revoked Proxy)", (_, t) => new Adam([{ value: t, grad: new Float32Array(4) }], { betas: revoked() as never }), /^new Adam: options\.betas must be an array \[beta1, beta2\]/],
  ])("%s: a TypeError naming it, the original error as its cause, nothing changed", (_, call, message) => {
    const g = randomArray(4, 9);
    const t = tensor(randomArray(4, 10), [2, 2]);
    const error = expectRefused(() => call(g, t), TypeError, message, [g, t]);
    if (message.source.includes("boom")) expect(error.cause).toBe(boom);
  });
});
