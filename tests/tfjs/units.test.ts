// units.ts (the unit axes of every TF.js layer's weights) and withGradientCentralization's `model`
// and `unitAxis` options, on a real tf.LayersModel holding every layer type issue 12 names, against
// the hand-written table of the issue and a float64 reference of GC over a general unit axis.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, test } from "vitest";
import { init, train, withGradientCentralization } from "../../src/tfjs/index.js";
import { layerUnitAxes, weightUnitSpec } from "../../src/tfjs/units.js";
import { resolveUnitSpec, type UnitSpec } from "../../src/tfjs/unit-view.js";
import { maxAbsDiff } from "../oracle.js";
import { centralizeAxesReference, largestUnitMean } from "./unit-oracle.js";

/**
 * A functional model with every layer type of issue 12 item 3 (and a nested Sequential). TF.js 4.22
 * has no gradient for Conv3DTranspose (Conv3DBackpropInputV2), so the model that trains leaves it out.
 */
function everyLayerModel(conv3dTranspose = true): tf.LayersModel {
  const image = tf.input({ shape: [6, 6, 4] });
  const tokens = tf.input({ shape: [5] });
  const volume = tf.input({ shape: [3, 3, 3, 2] });
  let x = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same", name: "conv" }).apply(image) as tf.SymbolicTensor;
  x = tf.layers.conv2dTranspose({ filters: 5, kernelSize: 2, name: "convT" }).apply(x) as tf.SymbolicTensor; // [7, 7, 5]
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, name: "depthwise" }).apply(x) as tf.SymbolicTensor; // [5, 5, 10]
  x = tf.layers.separableConv2d({ filters: 4, kernelSize: 2, depthMultiplier: 3, name: "separable" }).apply(x) as tf.SymbolicTensor; // [4, 4, 4]
  x = tf.layers.batchNormalization({ name: "bn" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor; // 64
  const nested = tf.sequential({ name: "nested", layers: [tf.layers.dense({ inputShape: [64], units: 3, activation: "tanh", name: "nestedDense" })] });
  x = nested.apply(x) as tf.SymbolicTensor;
  let s = tf.layers.embedding({ inputDim: 100, outputDim: 8, name: "embedding" }).apply(tokens) as tf.SymbolicTensor; // [5, 8]
  s = tf.layers.conv1d({ filters: 6, kernelSize: 2, name: "conv1d" }).apply(s) as tf.SymbolicTensor; // [4, 6]
  s = tf.layers.lstm({ units: 3, returnSequences: true, name: "lstm" }).apply(s) as tf.SymbolicTensor;
  s = tf.layers.bidirectional({ layer: tf.layers.gru({ units: 2, returnSequences: true }) as tf.RNN, name: "bigru" }).apply(s) as tf.SymbolicTensor;
  s = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }), name: "timeDense" }).apply(s) as tf.SymbolicTensor;
  s = tf.layers.simpleRNN({ units: 4, name: "rnn" }).apply(s) as tf.SymbolicTensor;
  s = tf.layers.layerNormalization({ name: "ln" }).apply(s) as tf.SymbolicTensor;
  let v = tf.layers.conv3d({ filters: 2, kernelSize: 2, name: "conv3d" }).apply(volume) as tf.SymbolicTensor; // [2, 2, 2, 2]
  if (conv3dTranspose) v = tf.layers.conv3dTranspose({ filters: 3, kernelSize: 2, name: "conv3dT" }).apply(v) as tf.SymbolicTensor; // [3, 3, 3, 3]
  v = tf.layers.flatten().apply(v) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([x, s, v]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, name: "head" }).apply(joined) as tf.SymbolicTensor;
  return tf.model({ inputs: [image, tokens, volume], outputs: out });
}

/** Issue 12 item 3, written out per weight (the first pattern that matches a weight name wins). */
const expectedAxes: [RegExp, UnitSpec | null, number[]?][] = [
  [/\/bias$/, null],
  [/^conv\/kernel$/, 3, [3, 3, 4, 3]], // Conv2D [kh, kw, in, out]
  [/^convT\/kernel$/, 2, [2, 2, 5, 3]], // Conv2DTranspose [kh, kw, filters, in]
  [/^depthwise\/depthwise_kernel$/, { axis: 2, span: 2 }, [3, 3, 5, 2]], // each (in, multiplier) pair
  [/^separable\/depthwise_kernel$/, { axis: 2, span: 2 }, [2, 2, 10, 3]],
  [/^separable\/pointwise_kernel$/, 3, [1, 1, 30, 4]],
  [/^bn\//, null], // gamma, beta, moving_mean, moving_variance
  [/^nestedDense\/kernel$/, 1, [64, 3]],
  [/^embedding\/embeddings$/, 0, [100, 8]], // one unit per row
  [/^conv1d\/kernel$/, 2, [2, 8, 6]],
  [/^lstm\/kernel$/, 1, [6, 12]],
  [/^lstm\/recurrent_kernel$/, 1, [3, 12]],
  [/^bigru\/(forward|backward)_gru.*\/kernel$/, 1, [3, 6]],
  [/^bigru\/(forward|backward)_gru.*\/recurrent_kernel$/, 1, [2, 6]],
  [/^timeDense\/kernel$/, 1, [4, 2]],
  [/^rnn\/kernel$/, 1, [2, 4]],
  [/^rnn\/recurrent_kernel$/, 1, [4, 4]],
  [/^ln\//, null],
  [/^conv3d\/kernel$/, 4, [2, 2, 2, 2, 2]],
  [/^conv3dT\/kernel$/, 3, [2, 2, 2, 3, 2]], // [kd, kh, kw, filters, in]
  [/^head\/kernel$/, 1],
];

function expectedFor(name: string): { spec: UnitSpec | null; shape?: number[] } {
  const unsuffixed = name.replace(/_\d+$/, ""); // a second model's "conv/kernel_1"
  const hit = expectedAxes.find(([pattern]) => pattern.test(unsuffixed));
  if (hit === undefined) throw new Error(`no expectation for ${name}`);
  return { spec: hit[1], shape: hit[2] };
}

/** One batch of inputs and targets for everyLayerModel, tokens from `tokenIds`. */
function batch(n: number, seed: number) {
  return tf.tidy(() => ({
    xs: [
      tf.randomNormal([n, 6, 6, 4], 0, 1, "float32", seed),
      tf.tensor2d(Array.from({ length: n * 5 }, (_, i) => (i * 37 + seed) % 100), [n, 5]),
      tf.randomNormal([n, 3, 3, 3, 2], 0, 1, "float32", seed + 1),
    ],
    ys: tf.randomNormal([n, 2], 0, 1, "float32", seed + 2),
  }));
}

/** An SGD(0) whose applyGradients records copies of the gradients it receives (and of the raw ones before the wrapper). */
function recorder() {
  const optimizer = tf.train.sgd(0);
  const received = new Map<string, { values: Float32Array; shape: number[] }>();
  optimizer.applyGradients = (gradients) => {
    const list = Array.isArray(gradients) ? gradients : Object.entries(gradients).map(([name, tensor]) => ({ name, tensor }));
    for (const { name, tensor } of list) received.set(name, { values: (tensor.dataSync() as Float32Array).slice(), shape: tensor.shape });
  };
  return { optimizer, received };
}

describe("units.ts on the cpu backend", () => {
  let model: tf.LayersModel; // every layer type
  let trainable: tf.LayersModel; // every layer type TF.js can train (all but Conv3DTranspose)
  beforeAll(async () => {
    expect(await tf.setBackend("cpu")).toBe(true);
    model = everyLayerModel();
    trainable = everyLayerModel(false);
  });

  test("layerUnitAxes gives every weight of every layer type its issue-12 axis", () => {
    const axes = layerUnitAxes(model);
    expect([...axes.keys()].sort()).toEqual(model.weights.map((w) => w.name).sort());
    for (const weight of model.weights) {
      const { spec, shape } = expectedFor(weight.name);
      if (shape) expect(weight.shape, weight.name).toEqual(shape);
      expect(axes.get(weight.name), weight.name).toEqual(spec);
    }
    // every kind of weight is there (a pattern that matched nothing would test nothing)
    for (const [pattern] of expectedAxes) expect(model.weights.some((w) => pattern.test(w.name)), String(pattern)).toBe(true);
  });

  test("the keys are the names trainable.fit passes to applyGradients (the tf.Variable names)", async () => {
    const { optimizer, received } = recorder();
    trainable.compile({ optimizer, loss: "meanSquaredError" });
    const { xs, ys } = batch(4, 1);
    await trainable.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 });
    const axes = layerUnitAxes(trainable);
    expect([...received.keys()].sort()).toEqual(trainable.trainableWeights.map((w) => w.name).sort());
    for (const name of received.keys()) expect(axes.has(name), name).toBe(true);
    tf.dispose([...xs, ys]);
  });

  test("withGradientCentralization({ model }): each gradient is centered on its layer's axis (float64 reference), unit means ≈ 0, others untouched", async () => {
    const { optimizer, received } = recorder();
    const raw = new Map<string, Float32Array>();
    withGradientCentralization(optimizer, { model: trainable });
    const centralizing = optimizer.applyGradients.bind(optimizer);
    optimizer.applyGradients = (gradients) => {
      expect(Array.isArray(gradients)).toBe(true); // model.fit → minimize(f, true, varList) passes a { name, tensor }[] list
      for (const { name, tensor } of gradients as { name: string; tensor: tf.Tensor }[]) raw.set(name, (tensor.dataSync() as Float32Array).slice());
      centralizing(gradients);
    };
    trainable.compile({ optimizer, loss: "meanSquaredError" });
    const { xs, ys } = batch(6, 5);
    await trainable.fit(xs, ys, { epochs: 1, batchSize: 6, verbose: 0 });
    tf.dispose([...xs, ys]);
    const kinds = new Set<string>();
    for (const [name, { values, shape }] of received) {
      const { spec } = expectedFor(name);
      const before = raw.get(name)!;
      if (spec === null) {
        expect(Array.from(values), name).toEqual(Array.from(before));
        continue;
      }
      const axes = resolveUnitSpec(spec, shape.length, "test", name);
      const reference = centralizeAxesReference(before, shape, axes);
      const scale = Math.max(...before.map(Math.abs));
      expect(scale, `${name} has a nonzero gradient`).toBeGreaterThan(0);
      expect(maxAbsDiff(values, reference) / scale, name).toBeLessThan(2e-6);
      expect(largestUnitMean(values, shape, axes) / scale, name).toBeLessThan(1e-6);
      kinds.add(name.split("/")[0]);
    }
    // every layer with a kernel took part
    expect([...kinds].sort()).toEqual(
      ["bigru", "conv", "conv1d", "conv3d", "convT", "depthwise", "embedding", "head", "lstm", "nestedDense", "rnn", "separable", "timeDense"],
    );
  });

  for (const engine of ["kernels", "tfjs"] as const) {
    test(`train.sgd({ model, engine: "${engine}" }): one model.fit step moves each weight by −lr·P g on its layer's axes (float64 reference)`, async () => {
      await init();
      // A model of its own, not the suite's shared `trainable`: after another test's step at this lr
      // its recurrent layers saturate (weights up to ~15), and the embedding's gradient fell to
      // 1e-11 and once to 0.
      const model = everyLayerModel(false);
      const lr = 0.5;
      const optimizer = train.sgd(lr, { model, engine });
      const raw = new Map<string, Float32Array>();
      const own = optimizer.applyGradients.bind(optimizer);
      optimizer.applyGradients = (gradients) => {
        for (const { name, tensor } of gradients as { name: string; tensor: tf.Tensor }[]) raw.set(name, (tensor.dataSync() as Float32Array).slice());
        own(gradients);
      };
      model.compile({ optimizer, loss: "meanSquaredError" });
      const before = new Map(model.trainableWeights.map((w) => [w.name, (w.read().dataSync() as Float32Array).slice()]));
      const { xs, ys } = batch(6, 9);
      await model.fit(xs, ys, { epochs: 1, batchSize: 6, verbose: 0 });
      tf.dispose([...xs, ys]);
      expect((optimizer as unknown as { engineKind: string }).engineKind).toBe(engine);
      for (const weight of model.trainableWeights) {
        const { spec } = expectedFor(weight.name);
        const g = raw.get(weight.name)!;
        const centered = spec === null ? Float64Array.from(g) : centralizeAxesReference(g, weight.shape as number[], resolveUnitSpec(spec, weight.shape.length, "test", weight.name));
        // w₁ against w₀ − lr·P g in float64: apart by the rounding of w₁ (2 ulp) and of the float32 step (1e-6 of its largest)
        const w0 = before.get(weight.name)!;
        const w1 = weight.read().dataSync() as Float32Array;
        const step = Math.max(...centered.map((x) => Math.abs(lr * x)));
        expect(step, weight.name).toBeGreaterThan(0);
        const worst = Math.max(...Array.from(w1, (x, j) => Math.abs(x - (w0[j] - lr * centered[j])) / (2 ** -22 * Math.abs(x) + 1e-6 * step)));
        expect(worst, weight.name).toBeLessThanOrEqual(1);
      }
      optimizer.dispose();
      model.dispose();
    });
  }

  test("unitAxis overrides per variable (null: no GC; undefined: the model's axis); a bad answer throws before any variable moves", () => {
    const { optimizer, received } = recorder();
    const w = tf.variable(tf.zeros([3, 4]), true, "override-w");
    const u = tf.variable(tf.zeros([2, 3, 4]), true, "override-u");
    const g = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 13]]);
    const h = tf.randomNormal([2, 3, 4], 0, 1, "float32", 3);
    withGradientCentralization(optimizer, { unitAxis: (name) => (name === "override-w" ? null : { axis: -2, span: 2 }) });
    optimizer.applyGradients({ [w.name]: g, [u.name]: h });
    expect(Array.from(received.get(w.name)!.values)).toEqual(Array.from(g.dataSync()));
    const hv = h.dataSync();
    expect(maxAbsDiff(received.get(u.name)!.values, centralizeAxesReference(hv, [2, 3, 4], { axis: 1, span: 2 }))).toBeLessThan(1e-6);
    withGradientCentralization(optimizer, { unitAxis: () => 2 }); // rank 2: axis 2 does not exist
    const sgd = tf.train.sgd(1);
    withGradientCentralization(sgd, { unitAxis: (_name, shape) => (shape.length === 2 ? 5 : undefined) });
    expect(() => sgd.applyGradients({ [u.name]: h, [w.name]: g })).toThrow(RangeError);
    expect(() => sgd.applyGradients({ [u.name]: h, [w.name]: g })).toThrow(
      /^applyGradients: options\.unitAxis\("override-w", \[3, 4\]\) 5 is out of range for rank 2/,
    );
    withGradientCentralization(sgd, { unitAxis: () => "last" as unknown as number });
    expect(() => sgd.applyGradients({ [w.name]: g })).toThrow(TypeError);
    expect(Array.from(u.dataSync()).every((x) => x === 0) && Array.from(w.dataSync()).every((x) => x === 0)).toBe(true);
    expect(() => withGradientCentralization(sgd, { model: {} as tf.LayersModel })).toThrow(/^withGradientCentralization: options\.model must be a tf\.LayersModel, got Object$/);
    expect(() => withGradientCentralization(sgd, { unitAxis: 1 as unknown as () => number })).toThrow(TypeError);
    expect(() => layerUnitAxes(null as unknown as tf.LayersModel)).toThrow(/^layerUnitAxes: model must be a tf\.LayersModel, got null$/);
    tf.dispose([w, u, g, h]);
  });

  test("weightUnitSpec: the JSDoc examples, and an unknown layer's rank > 1 weight takes the last axis", () => {
    expect(weightUnitSpec("Dense", "kernel", [784, 128])).toBe(1);
    expect(weightUnitSpec("Conv2DTranspose", "kernel", [3, 3, 16, 8])).toBe(2);
    expect(weightUnitSpec("DepthwiseConv2D", "depthwise_kernel", [3, 3, 8, 2])).toEqual({ axis: 2, span: 2 });
    expect(weightUnitSpec("Embedding", "embeddings", [100, 16])).toBe(0);
    expect(weightUnitSpec("Dense", "bias", [128])).toBeNull();
    expect(weightUnitSpec("MyAttention", "query", [16, 4, 8])).toBe(2);
    expect(weightUnitSpec("PReLU", "alpha", [4, 4, 3])).toBeNull();
  });
});

describe("Embedding rows that were not looked up", () => {
  /** Trains an Embedding(100, 8) → Flatten → Dense model on tokens from 5 ids; returns the rows that moved. */
  async function movedRows(wrap: (opt: tf.Optimizer, model: tf.LayersModel) => tf.Optimizer): Promise<{ moved: number[]; ids: number[] }> {
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 100, outputDim: 8, inputLength: 3, embeddingsInitializer: tf.initializers.randomNormal({ seed: 4 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
      ],
    });
    const ids = [3, 17, 42, 64, 99];
    const before = model.layers[0].getWeights()[0].arraySync() as number[][];
    model.compile({ optimizer: wrap(tf.train.adam(0.01), model), loss: "meanSquaredError" });
    const xs = tf.tensor2d(Array.from({ length: 8 * 3 }, (_, i) => ids[(i * 7) % 5]), [8, 3]);
    const ys = tf.randomNormal([8, 1], 0, 1, "float32", 6);
    await model.fit(xs, ys, { epochs: 5, batchSize: 8, verbose: 0 });
    const after = model.layers[0].getWeights()[0].arraySync() as number[][];
    const moved = after.flatMap((row, r) => (row.some((x, j) => x !== before[r][j]) ? [r] : []));
    tf.dispose([xs, ys]);
    model.dispose();
    return { moved, ids };
  }

  beforeAll(async () => {
    expect(await tf.setBackend("cpu")).toBe(true);
  });

  test("with { model } (one unit per row, Adam, no decay): only the 5 looked-up rows move; the other 95 are bit-identical", async () => {
    const { moved, ids } = await movedRows((opt, model) => withGradientCentralization(opt, { model }));
    expect(moved).toEqual(ids);
  });

  test("regression: today's out-last wrapper (no model) moves all 100 rows", async () => {
    const { moved } = await movedRows((opt) => withGradientCentralization(opt));
    expect(moved.length).toBe(100);
  });
});
