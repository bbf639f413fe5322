// The TF.js adapter (gradient-centralization/tfjs) against the float64 oracle, on TF.js's cpu
// backend and on its wasm backend (the adapter uses TF.js ops only: every backend runs the same code).
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, test } from "vitest";
import { centralizeTensor, withGradientCentralization } from "../src/tfjs/index.js";
import { centralizeReference, maxAbsDiff } from "./oracle.js";
import { randomArray } from "./random.js";

const TOLERANCE = 5e-7;

function gradient(shape: number[], seed: number, offset = 0): { values: Float32Array; tensor: tf.Tensor } {
  const values = randomArray(shape.reduce((a, b) => a * b, 1), seed, offset);
  return { values, tensor: tf.tensor(values, shape) };
}

describe.each(["cpu", "wasm"])("%s backend", (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });

  describe("centralizeTensor", () => {
    const cases: [string, number[]][] = [
      ["dense [in, out]", [5, 7]],
      ["dense with one input", [1, 4]],
      ["rank 3", [3, 4, 5]],
      ["conv [kh, kw, in, out]", [3, 3, 4, 6]],
      ["conv with odd sizes", [1, 5, 3, 9]],
    ];
    for (const [name, shape] of cases) {
      test(`${name} ${JSON.stringify(shape)} matches the out-last oracle`, () => {
        const { values, tensor } = gradient(shape, shape.length * 17 + shape[shape.length - 1]);
        const out = centralizeTensor(tensor);
        expect(out.shape).toEqual(shape);
        expect(maxAbsDiff(out.dataSync(), centralizeReference(values, shape, "out-last"))).toBeLessThanOrEqual(TOLERANCE);
        tf.dispose([tensor, out]);
      });
    }

    test("a large common offset (1000 + N(0, 1)) still matches the oracle to 5e-7", () => {
      const shape = [257, 9];
      const { values, tensor } = gradient(shape, 3, 1000);
      const out = centralizeTensor(tensor);
      expect(maxAbsDiff(out.dataSync(), centralizeReference(values, shape, "out-last"))).toBeLessThanOrEqual(TOLERANCE);
      tf.dispose([tensor, out]);
    });

    test("layout out-first reduces the other axes", () => {
      const shape = [6, 2, 3, 3];
      const { values, tensor } = gradient(shape, 11, 2);
      const out = centralizeTensor(tensor, { layout: "out-first" });
      expect(maxAbsDiff(out.dataSync(), centralizeReference(values, shape, "out-first"))).toBeLessThanOrEqual(TOLERANCE);
      expect(maxAbsDiff(out.dataSync(), centralizeReference(values, shape, "out-last"))).toBeGreaterThan(1e-2);
      tf.dispose([tensor, out]);
    });

    test("rank ≤ 1 passes through as the same tensor; convOnly leaves rank ≤ 3 alone", () => {
      const bias = tf.tensor1d([1, 2, 3]);
      expect(centralizeTensor(bias)).toBe(bias);
      const dense = tf.tensor2d([[1, 2], [3, 4]]);
      expect(centralizeTensor(dense, { convOnly: true })).toBe(dense);
      const shape = [2, 2, 3, 4];
      const { values, tensor } = gradient(shape, 5);
      const out = centralizeTensor(tensor, { convOnly: true });
      expect(maxAbsDiff(out.dataSync(), centralizeReference(values, shape, "out-last", true))).toBeLessThanOrEqual(TOLERANCE);
      tf.dispose([bias, dense, tensor, out]);
    });

    test("bad arguments throw a TypeError or RangeError naming centralizeTensor and the argument", () => {
      const g = tf.tensor2d([[1, 2], [3, 4]]);
      const bias = tf.tensor1d([1, 2]); // passes through unchanged, but its options are still checked
      const start = tf.memory().numTensors;
      const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
        ["layout nchw", () => centralizeTensor(g, { layout: "nchw" as "out-last" }), RangeError, /^centralizeTensor: options\.layout must be "out-first" or "out-last", got "nchw"$/],
        ["layout nchw on a bias", () => centralizeTensor(bias, { layout: "nchw" as "out-last" }), RangeError, /centralizeTensor: options\.layout/],
        ["an option typo", () => centralizeTensor(g, { convonly: true } as object), TypeError, /^centralizeTensor: options\.convonly is not an option \(known: layout, unitAxis, convOnly\)$/],
        ["convOnly not a boolean", () => centralizeTensor(g, { convOnly: "yes" as unknown as boolean }), TypeError, /centralizeTensor: options\.convOnly must be a boolean, got string/],
        ["options not an object", () => centralizeTensor(g, "out-first" as unknown as object), TypeError, /centralizeTensor: options must be an object, got string/],
        ["an array", () => centralizeTensor([[1, 2], [3, 4]] as unknown as tf.Tensor), TypeError, /^centralizeTensor: gradient must be a tf\.Tensor, got an array$/],
        ["a Float32Array", () => centralizeTensor(new Float32Array(4) as unknown as tf.Tensor), TypeError, /centralizeTensor: gradient must be a tf\.Tensor, got Float32Array/],
        ["null", () => centralizeTensor(null as unknown as tf.Tensor), TypeError, /centralizeTensor: gradient must be a tf\.Tensor, got null/],
        ["undefined", () => centralizeTensor(undefined as unknown as tf.Tensor), TypeError, /centralizeTensor: gradient must be a tf\.Tensor, got undefined/],
        ["a shape-only object", () => centralizeTensor({ shape: [2, 2] } as unknown as tf.Tensor), TypeError, /centralizeTensor: gradient must be a tf\.Tensor, got Object/],
      ];
      for (const [name, call, type, message] of cases) {
        expect(call, name).toThrow(type);
        expect(call, name).toThrow(message);
      }
      const strings = tf.tensor2d([["a", "b"], ["c", "d"]]);
      expect(() => centralizeTensor(strings)).toThrow(TypeError);
      expect(() => centralizeTensor(strings)).toThrow(/centralizeTensor: gradient must be a numeric tf\.Tensor, got dtype "string"/);
      const disposed = tf.tensor2d([[1, 2], [3, 4]]);
      disposed.dispose();
      expect(() => centralizeTensor(disposed)).toThrow(TypeError);
      expect(() => centralizeTensor(disposed)).toThrow(/centralizeTensor: gradient is a disposed tf\.Tensor/);
      // no failed call created a tensor, and the input is as it was
      expect(tf.memory().numTensors).toBe(start + 1); // `strings`
      expect(g.arraySync()).toEqual([[1, 2], [3, 4]]);
      tf.dispose([g, bias, strings]);
    });

    test("the JSDoc example", () => {
      const g = tf.tensor2d([[1, 10], [3, 30]]);
      const out = centralizeTensor(g);
      expect(out.arraySync()).toEqual([[-1, -10], [1, 10]]);
      tf.dispose([g, out]);
    });
  });

  /** An SGD optimizer that records (copies of) what its applyGradients receives, then applies it. */
  function recordingSgd(lr: number) {
    const optimizer = tf.train.sgd(lr);
    const seen: { name: string; values: Float32Array | null }[][] = [];
    const apply = optimizer.applyGradients.bind(optimizer);
    optimizer.applyGradients = (gradients) => {
      const list = Array.isArray(gradients)
        ? gradients.map(({ name, tensor }) => ({ name, tensor }))
        : Object.entries(gradients).map(([name, tensor]) => ({ name, tensor }));
      seen.push(list.map(({ name, tensor }) => ({ name, values: tensor == null ? null : (tensor.dataSync() as Float32Array).slice() })));
      apply(gradients);
    };
    return { optimizer, seen };
  }

  describe("withGradientCentralization", () => {
    const shapes: Record<string, number[]> = { "dense/kernel": [4, 3], "dense/bias": [3], "conv/kernel": [2, 2, 3, 5] };

    function gradients(seed: number) {
      return Object.entries(shapes).map(([name, shape], i) => ({ name, shape, ...gradient(shape, seed + i, 0.5) }));
    }

    test("array form: same order and length, null entries kept, rank > 1 centralized (out-last)", () => {
      const { optimizer, seen } = recordingSgd(0.1);
      const vars = Object.entries(shapes).map(([name, shape]) => tf.variable(tf.zeros(shape), true, `array-${name}-${backend}`));
      const grads = gradients(1);
      withGradientCentralization(optimizer);
      const list = vars.map((v, i) => ({ name: v.name, tensor: grads[i].tensor }));
      optimizer.applyGradients(list);
      expect(seen[0].map((e) => e.name)).toEqual(vars.map((v) => v.name));
      grads.forEach((g, i) => {
        const expected = centralizeReference(g.values, g.shape, "out-last");
        expect(maxAbsDiff(seen[0][i].values!, expected)).toBeLessThanOrEqual(TOLERANCE);
        expect(maxAbsDiff(vars[i].dataSync(), expected.map((x) => -0.1 * x))).toBeLessThanOrEqual(1e-6);
      });
      // A null gradient keeps its slot: TF.js optimizers key state by position and skip nulls.
      const before = vars.map((v) => v.dataSync().slice());
      const withNull = [{ name: vars[0].name, tensor: null as unknown as tf.Tensor }, list[1], list[2]];
      optimizer.applyGradients(withNull);
      expect(seen[1].map((e) => e.name)).toEqual(withNull.map((e) => e.name));
      expect(seen[1][0].values).toBeNull();
      expect(Array.from(vars[0].dataSync())).toEqual(Array.from(before[0]));
      tf.dispose([...vars, ...grads.map((g) => g.tensor)]);
    });

    test("map form: same keys in the same order, rank > 1 centralized", () => {
      const { optimizer, seen } = recordingSgd(1);
      const vars = Object.entries(shapes).map(([name, shape]) => tf.variable(tf.zeros(shape), true, `map-${name}-${backend}`));
      const grads = gradients(7);
      withGradientCentralization(optimizer);
      optimizer.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, grads[i].tensor])));
      expect(seen[0].map((e) => e.name)).toEqual(vars.map((v) => v.name));
      grads.forEach((g, i) => {
        expect(maxAbsDiff(seen[0][i].values!, centralizeReference(g.values, g.shape, "out-last"))).toBeLessThanOrEqual(TOLERANCE);
      });
      tf.dispose([...vars, ...grads.map((g) => g.tensor)]);
    });

    test("Adam with GC equals plain Adam fed the oracle-centralized gradients, step after step", () => {
      const make = (tag: string) => Object.entries(shapes).map(([name, shape], i) =>
        tf.variable(tf.tensor(randomArray(shape.reduce((a, b) => a * b, 1), 100 + i), shape), true, `adam-${tag}-${name}-${backend}`));
      const wrappedVars = make("gc");
      const referenceVars = make("ref");
      const wrapped = withGradientCentralization(tf.train.adam(0.01));
      const reference = tf.train.adam(0.01);
      for (let step = 0; step < 5; step++) {
        const grads = gradients(200 + 10 * step);
        wrapped.applyGradients(wrappedVars.map((v, i) => ({ name: v.name, tensor: grads[i].tensor })));
        const oracle = grads.map((g) => tf.tensor(Float32Array.from(centralizeReference(g.values, g.shape, "out-last")), g.shape));
        reference.applyGradients(referenceVars.map((v, i) => ({ name: v.name, tensor: oracle[i] })));
        tf.dispose([...grads.map((g) => g.tensor), ...oracle]);
      }
      wrappedVars.forEach((v, i) => {
        expect(maxAbsDiff(v.dataSync(), referenceVars[i].dataSync())).toBeLessThanOrEqual(1e-6);
      });
      tf.dispose([...wrappedVars, ...referenceVars]);
      wrapped.dispose();
      reference.dispose();
    });

    test("tf.memory().numTensors stays flat across 100 minimize steps", () => {
      const w = tf.variable(tf.randomNormal([8, 4], 0, 1, "float32", 1), true, `leak-w-${backend}`);
      const k = tf.variable(tf.randomNormal([3, 3, 2, 4], 0, 1, "float32", 2), true, `leak-k-${backend}`);
      const b = tf.variable(tf.zeros([4]), true, `leak-b-${backend}`);
      const x = tf.randomNormal([16, 8], 0, 1, "float32", 3);
      // Image patches [n, kh·kw·in] times the kernel reshaped to [kh·kw·in, out]: a convolution's
      // arithmetic, and a rank-4 gradient, without Conv2DBackpropFilter (the wasm backend lacks it).
      const patches = tf.randomNormal([10, 18], 0, 1, "float32", 4);
      const optimizer = withGradientCentralization(tf.train.adam(0.01));
      const loss = () =>
        tf.tidy(() => tf.add(tf.mean(tf.square(tf.add(tf.matMul(x, w), b))), tf.mean(tf.square(tf.matMul(patches, tf.reshape(k, [18, 4]))))) as tf.Scalar);
      optimizer.minimize(loss); // creates Adam's slots
      const start = tf.memory().numTensors;
      for (let i = 0; i < 100; i++) optimizer.minimize(loss);
      expect(tf.memory().numTensors).toBe(start);
      tf.dispose([w, k, b, x, patches]);
      optimizer.dispose();
    });

    test("model.compile + model.fit: loss falls, and SGD with GC keeps every dense unit's weight mean fixed", async () => {
      const data = tf.tidy(() => {
        const xs = tf.randomNormal([64, 6], 0, 1, "float32", 9);
        const labels = tf.argMax(tf.matMul(xs, tf.randomNormal([6, 3], 0, 1, "float32", 10)), 1);
        return { xs, ys: tf.oneHot(labels, 3) };
      });
      const train = async (gc: boolean) => {
        const model = tf.sequential({
          layers: [
            tf.layers.dense({ inputShape: [6], units: 8, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
            tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
          ],
        });
        const sgd = tf.train.sgd(0.2);
        model.compile({ optimizer: gc ? withGradientCentralization(sgd) : sgd, loss: "categoricalCrossentropy" });
        const columnMeans = () => model.layers.map((layer) => tf.tidy(() => tf.mean(layer.getWeights()[0], 0).arraySync() as number[]));
        const before = columnMeans();
        const history = await model.fit(data.xs, data.ys, { epochs: 15, batchSize: 16, shuffle: false, verbose: 0 });
        const after = columnMeans();
        const losses = history.history.loss as number[];
        model.dispose();
        const drift = Math.max(...before.flatMap((layer, l) => layer.map((m, u) => Math.abs(after[l][u] - m))));
        return { first: losses[0], last: losses[losses.length - 1], drift };
      };
      const withGc = await train(true);
      const without = await train(false);
      expect(withGc.last).toBeLessThan(0.8 * withGc.first);
      expect(withGc.drift).toBeLessThan(1e-5); // w − w⁰ = −lr·Σ P g: each unit's mean never moves
      expect(without.drift).toBeGreaterThan(1e-3); // the control: without GC the means do move
      tf.dispose([data.xs, data.ys]);
    });

    test("wrapping again replaces the options; gc: false restores the optimizer's own update", () => {
      const { optimizer, seen } = recordingSgd(1);
      const recorder = optimizer.applyGradients;
      const v = tf.variable(tf.zeros([2, 2]), true, `rewrap-v-${backend}`);
      const g = tf.tensor2d([[1, 2], [5, 8]]);
      withGradientCentralization(optimizer);
      withGradientCentralization(optimizer, { layout: "out-first" }); // not centralized twice
      optimizer.applyGradients([{ name: v.name, tensor: g }]);
      expect(Array.from(seen[0][0].values!)).toEqual([-0.5, 0.5, -1.5, 1.5]);
      withGradientCentralization(optimizer, { gc: false });
      expect(optimizer.applyGradients).toBe(recorder);
      tf.dispose([v, g]);
    });

    test("bad arguments throw a TypeError or RangeError naming them, before wrapping", () => {
      expect(() => withGradientCentralization({} as tf.Optimizer)).toThrow(TypeError);
      expect(() => withGradientCentralization(null as unknown as tf.Optimizer)).toThrow(/optimizer/);
      const optimizer = tf.train.sgd(0.1);
      const own = optimizer.applyGradients;
      expect(() => withGradientCentralization(optimizer, { gc: "update" as "gradient" })).toThrow(RangeError);
      expect(() => withGradientCentralization(optimizer, { gc: "update" as "gradient" })).toThrow(
        /^withGradientCentralization: options\.gc must be "gradient" or false, got "update"$/,
      );
      expect(() => withGradientCentralization(optimizer, { gc: true as false })).toThrow(TypeError);
      expect(() => withGradientCentralization(optimizer, { gc: true as false })).toThrow(/options\.gc must be "gradient" or false, got true/);
      expect(() => withGradientCentralization(optimizer, { layout: "rows" as "out-last" })).toThrow(/options\.layout/);
      expect(() => withGradientCentralization(optimizer, { convOnly: 1 as unknown as boolean })).toThrow(TypeError);
      expect(() => withGradientCentralization(optimizer, { lr: 1 } as object)).toThrow(/options\.lr/);
      expect(optimizer.applyGradients).toBe(own);
      withGradientCentralization(optimizer);
      expect(() => optimizer.applyGradients(null as unknown as tf.NamedTensorMap)).toThrow(/gradients/);
      // a gradient that is not a tf.Tensor is named by its place, and no variable moves
      const v = tf.variable(tf.tensor2d([[1, 2], [3, 4]]), true, `bad-grad-v-${backend}`);
      const start = tf.memory().numTensors;
      const notTensor = [[1, 2], [3, 4]] as unknown as tf.Tensor;
      expect(() => optimizer.applyGradients({ [v.name]: notTensor })).toThrow(TypeError);
      expect(() => optimizer.applyGradients({ [v.name]: notTensor })).toThrow(
        new RegExp(`^applyGradients: gradients\\[${JSON.stringify(v.name)}\\] must be a tf\\.Tensor, got an array$`),
      );
      const g = tf.tensor2d([[1, 1], [1, 1]]);
      expect(() => optimizer.applyGradients([{ name: v.name, tensor: g }, { name: v.name, tensor: notTensor }])).toThrow(
        /^applyGradients: gradients\[1\]\.tensor must be a tf\.Tensor, got an array$/,
      );
      expect(v.arraySync()).toEqual([[1, 2], [3, 4]]);
      expect(tf.memory().numTensors).toBe(start + 1); // `g`; the centralized copy of it was disposed
      tf.dispose([v, g]);
    });
  });
});
