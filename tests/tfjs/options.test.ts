// The options and the tf.Optimizer behaviour of train.*: Keras's clipping (against float64
// references), schedules, iterations, null gradients, weights set from outside, and the errors
// (TypeError / RangeError naming the factory and the argument, thrown before anything changes).
import * as tf from "@tensorflow/tfjs";
import { beforeAll, expect, test } from "vitest";
import { init, train } from "../../src/tfjs/index.js";
import { clipGradValueReference, totalNormReference } from "../clip-oracle.js";
import { randomArray } from "../random.js";

let made = 0;

beforeAll(async () => {
  await init();
  await tf.setBackend("cpu");
});

/** Two variables (a [4, 3] kernel and a [3] bias) with seeded values and their gradients. */
function fixture(scale = 1) {
  const run = made++;
  const values = [randomArray(12, 1, 0, 0.5), randomArray(3, 2, 0, 0.5)];
  const grads = [randomArray(12, 3, 0.2, scale), randomArray(3, 4, -0.1, scale)];
  const vars = [tf.variable(tf.tensor(values[0], [4, 3]), true, `options_${run}/kernel`), tf.variable(tf.tensor(values[1], [3]), true, `options_${run}/bias`)];
  const tensors = [tf.tensor(grads[0], [4, 3]), tf.tensor(grads[1], [3])];
  const list = () => vars.map((v, k) => ({ name: v.name, tensor: tensors[k] }));
  const dispose = () => tf.dispose([...vars, ...tensors]);
  return { values, grads, vars, tensors, list, dispose };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tolerance = 1e-6): void {
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `[${i}]`).toBeLessThanOrEqual(tolerance * (1 + Math.abs(want[i])));
}

test("clipValue, clipNorm, globalClipNorm: Keras's clipping before the step (SGD, gc false, against float64)", () => {
  const lr = 0.5;
  const keras = {
    clipValue: (grads: Float32Array[], c: number) => clipGradValueReference(grads, c),
    clipNorm: (grads: Float32Array[], c: number) => grads.map((g) => Float64Array.from(g, (x) => (x * c) / Math.max(totalNormReference([g], 2), c))),
    globalClipNorm: (grads: Float32Array[], c: number) => grads.map((g) => Float64Array.from(g, (x) => (x * c) / Math.max(totalNormReference(grads, 2), c))),
  };
  for (const [option, c] of [["clipValue", 0.3], ["clipNorm", 0.4], ["globalClipNorm", 0.5], ["globalClipNorm", 1e3]] as const) {
    const f = fixture(2);
    const optimizer = train.sgd(lr, { gc: false, [option]: c });
    optimizer.applyGradients(f.list());
    const clipped = keras[option](f.grads, c);
    f.vars.forEach((v, k) => expectClose(v.dataSync(), f.values[k].map((w, i) => w - lr * clipped[k][i])));
    optimizer.dispose();
    f.dispose();
  }
});

test("a schedule: step t (from 0) uses learningRate(t); iterations counts the steps", () => {
  const f = fixture();
  const asked: number[] = [];
  const optimizer = train.sgd((step) => (asked.push(step), 0.1 * (step + 1)), { gc: false });
  let expected = f.values[0].map((x) => x);
  for (let t = 0; t < 3; t++) {
    optimizer.applyGradients(f.list());
    expected = expected.map((w, i) => Math.fround(w - Math.fround(0.1 * (t + 1)) * f.grads[0][i]));
  }
  expect(asked).toEqual([0, 1, 2]);
  expect(optimizer.iterations).toBe(3);
  expectClose(f.vars[0].dataSync(), expected);
  optimizer.dispose();
  f.dispose();
});

test("null gradients leave their variable alone; the others step", () => {
  const f = fixture();
  const optimizer = train.adam(0.1, undefined, undefined, undefined, { gc: "gradient" });
  optimizer.applyGradients({ [f.vars[0].name]: f.tensors[0], [f.vars[1].name]: null as unknown as tf.Tensor });
  expect(Array.from(f.vars[1].dataSync())).toEqual(Array.from(f.values[1]));
  expect(Array.from(f.vars[0].dataSync())).not.toEqual(Array.from(f.values[0]));
  optimizer.dispose();
  f.dispose();
});

test("weights set from outside (variable.assign, model.setWeights) are read again before the next step", () => {
  const f = fixture();
  const optimizer = train.sgd(0.5, { gc: false });
  optimizer.applyGradients(f.list());
  const replacement = randomArray(12, 9);
  f.vars[0].assign(tf.tensor(replacement, [4, 3]));
  optimizer.applyGradients(f.list());
  expectClose(f.vars[0].dataSync(), replacement.map((w, i) => w - 0.5 * f.grads[0][i]));
  optimizer.dispose();
  f.dispose();
});

test("minimize and model.fit use it as a tf.Optimizer; dispose frees it", async () => {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
  const optimizer = train.adam(0.01, undefined, undefined, undefined, { gc: "gradient" });
  expect(optimizer instanceof tf.Optimizer).toBe(true);
  model.compile({ optimizer, loss: "meanSquaredError" });
  const xs = tf.tensor2d([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9], [0.1, 0, 0.1]]);
  const ys = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0, 0]]);
  const history = await model.fit(xs, ys, { epochs: 30, verbose: 0 });
  const losses = history.history.loss as number[];
  expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
  expect(optimizer.iterations).toBe(30);
  tf.dispose([xs, ys]);
  model.dispose();
  optimizer.dispose();
});

test("bad arguments and options: TypeError / RangeError naming the factory and the argument", () => {
  const cases: [() => unknown, ErrorConstructor, RegExp][] = [
    [() => train.adam(-1), RangeError, /^train\.adam: learningRate must be a finite number ≥ 0, got -1/],
    [() => train.adam("0.1" as never), TypeError, /^train\.adam: learningRate must be a number or a schedule/],
    [() => train.adam(0.1, 1), RangeError, /^train\.adam: beta1 must be in \[0, 1\)/],
    [() => train.adam(0.1, undefined, undefined, 0), RangeError, /^train\.adam: epsilon must be a finite number > 0/],
    [() => train.adam(0.1, undefined, undefined, undefined, { gc: "both" as never }), RangeError, /^train\.adam: options\.gc must be "gradient", "update" or false/],
    [() => train.adam(0.1, undefined, undefined, undefined, { gc: true as never }), TypeError, /^train\.adam: options\.gc must be/],
    [() => train.sgd(0.1, { convOnly: 1 as never }), TypeError, /^train\.sgd: options\.convOnly must be a boolean/],
    [() => train.sgd(0.1, { clipNorm: 0 }), RangeError, /^train\.sgd: options\.clipNorm must be a finite number > 0/],
    [() => train.sgd(0.1, { clipNorm: 1, clipValue: 1 }), RangeError, /^train\.sgd: only one of options\.clipNorm, options\.clipValue and options\.globalClipNorm/],
    [() => train.sgd(0.1, { unitAxis: 1 as never }), TypeError, /^train\.sgd: options\.unitAxis must be a function/],
    [() => train.sgd(0.1, { model: {} as never }), TypeError, /^train\.sgd: options\.model must be a tf\.LayersModel/],
    [() => train.sgd(0.1, { engine: "gpu" as never }), RangeError, /^train\.sgd: options\.engine must be "auto" or "kernels" or "tfjs"/],
    [() => train.sgd(0.1, { lr: 1 } as never), TypeError, /^train\.sgd: options\.lr is not an option/],
    [() => train.sgd(0.1, { excludeFromWeightDecay: ["bias"] }), TypeError, /^train\.sgd: options\.excludeFromWeightDecay applies to optimizers with a weight decay/],
    [() => train.adamw(0.1, { excludeFromWeightDecay: [1 as never] }), TypeError, /^train\.adamw: options\.excludeFromWeightDecay\[0\] must be a string or a RegExp/],
    [() => train.adamw(0.1, { betas: [0.9, 1] }), RangeError, /^train\.adamw: options\.betas\[1\] must be in \[0, 1\)/],
    [() => train.momentum(0.1, undefined as never), TypeError, /^train\.momentum: momentum must be a number/],
    [() => train.momentum(0.1, 0.9, "yes" as never), TypeError, /^train\.momentum: useNesterov must be a boolean/],
    [() => train.rmsprop(0.1, 1.5), RangeError, /^train\.rmsprop: decay must be in \[0, 1\]/],
    [() => train.ranger(0.1, { k: 0 }), RangeError, /^train\.ranger: options\.k must be an integer ≥ 1/],
  ];
  for (const [call, kind, message] of cases) {
    expect(call).toThrow(kind);
    expect(call).toThrow(message);
  }
});

test("errors at a step: an unknown variable, a schedule's bad value, unitAxis out of range; nothing changes", () => {
  const f = fixture();
  const before = f.vars.map((v) => v.dataSync().slice());
  const unknown = train.sgd(0.1);
  expect(() => unknown.applyGradients({ no_such_variable: f.tensors[0] })).toThrow(/^train\.sgd: applyGradients: no variable is named "no_such_variable"/);
  const schedule = train.sgd(() => Number.NaN);
  expect(() => schedule.applyGradients(f.list())).toThrow(RangeError);
  expect(() => schedule.applyGradients(f.list())).toThrow(/^train\.sgd: applyGradients: learningRate\(0\) must be a finite number ≥ 0, got NaN/);
  const axis = train.sgd(0.1, { unitAxis: () => 2 });
  expect(() => axis.applyGradients(f.list())).toThrow(/^train\.sgd: options\.unitAxis\(".*kernel", \[4, 3\]\) must return an integer in \[-2, 2\) or null, got 2/);
  f.vars.forEach((v, k) => expect(Array.from(v.dataSync())).toEqual(Array.from(before[k])));
  expect(unknown.iterations + schedule.iterations + axis.iterations).toBe(0);
  f.dispose();
});

test.each(["cpu", "wasm"])("%s backend: the step leaves alone what others hold (an earlier dataSync() array, a clone sharing the variable's data)", async (backend) => {
  await import("@tensorflow/tfjs-backend-wasm");
  await tf.setBackend(backend);
  try {
    const f = fixture();
    const optimizer = train.sgd(0.5, { gc: false });
    optimizer.applyGradients(f.list()); // after this the variable's data is the optimizer's own
    const snapshot = f.vars[0].dataSync();
    const copy = Array.from(snapshot);
    const clone = tf.clone(f.vars[0]);
    optimizer.applyGradients(f.list());
    expect(Array.from(snapshot)).toEqual(copy);
    expect(Array.from(clone.dataSync())).toEqual(copy);
    expectClose(f.vars[0].dataSync(), copy.map((w, i) => w - 0.5 * f.grads[0][i]));
    clone.dispose();
    optimizer.applyGradients(f.list()); // the variable's data is its own again
    expectClose(f.vars[0].dataSync(), copy.map((w, i) => w - 2 * 0.5 * f.grads[0][i]));
    optimizer.dispose();
    f.dispose();
  } finally {
    await tf.setBackend("cpu");
  }
});

test("wasm backend: matMul and conv2d, whose XNNPACK operators keep packed copies of the weights, read each step's new weights", async () => {
  await import("@tensorflow/tfjs-backend-wasm");
  await tf.setBackend("wasm");
  try {
    const run = made++;
    const kernel = tf.variable(tf.tensor(randomArray(24, 5, 0, 0.5), [4, 6]), true, `options_${run}/dense`);
    const filter = tf.variable(tf.tensor(randomArray(54, 6, 0, 0.5), [3, 3, 2, 3]), true, `options_${run}/conv`);
    const x = tf.tensor(randomArray(20, 7), [5, 4]);
    const image = tf.tensor(randomArray(72, 8), [1, 6, 6, 2]);
    const grads = { [kernel.name]: tf.tensor(randomArray(24, 9, 0.1), [4, 6]), [filter.name]: tf.tensor(randomArray(54, 10, 0.1), [3, 3, 2, 3]) };
    // The ops on the variables, and on new tensors holding the variables' values (never packed before).
    const outputs = () => tf.tidy(() => [tf.matMul(x, kernel), tf.conv2d(image as tf.Tensor4D, filter as tf.Tensor4D, 1, "same")].map((t) => t.dataSync()));
    const fresh = () =>
      tf.tidy(() => {
        const [k, f] = [kernel, filter].map((v) => tf.tensor(v.dataSync(), v.shape));
        return [tf.matMul(x, k), tf.conv2d(image as tf.Tensor4D, f as tf.Tensor4D, 1, "same")].map((t) => t.dataSync());
      });
    const optimizer = train.adam(0.1, undefined, undefined, undefined, { gc: "gradient", engine: "kernels" });
    for (let step = 0; step < 3; step++) {
      const before = outputs(); // the operators are made here and pack the current weights
      optimizer.applyGradients(grads);
      const after = outputs();
      const want = fresh();
      expect(Array.from(after[0])).not.toEqual(Array.from(before[0]));
      after.forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(want[i])));
    }
    optimizer.dispose();
    tf.dispose([kernel, filter, x, image, ...Object.values(grads)]);
  } finally {
    await tf.setBackend("cpu");
  }
});
