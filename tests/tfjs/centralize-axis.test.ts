// centralizeTensor with a general unit axis ({ unitAxis: k } or { axis, span }) against the float64
// reference of GC over the [outer, units, inner] view, on TF.js's cpu and wasm backends.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, test } from "vitest";
import { centralizeTensor, withGradientCentralization } from "../../src/tfjs/index.js";
import { unitView } from "../../src/tfjs/unit-view.js";
import { maxAbsDiff } from "../oracle.js";
import { randomArray } from "../random.js";
import { centralizeAxesReference, largestUnitMean } from "./unit-oracle.js";

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

describe.each(["cpu", "wasm"])("%s backend", (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });

  const cases: [string, number[], number | { axis: number; span: number }, { axis: number; span: number }][] = [
    ["Conv2DTranspose [kh, kw, filters, in], axis −2", [3, 3, 6, 4], -2, { axis: 2, span: 1 }],
    ["Embedding [inputDim, outputDim], axis 0", [50, 7], 0, { axis: 0, span: 1 }],
    ["a middle axis of rank 3", [4, 5, 6], 1, { axis: 1, span: 1 }],
    ["DepthwiseConv2D [kh, kw, in, mult], { axis: 2, span: 2 }", [3, 3, 5, 2], { axis: 2, span: 2 }, { axis: 2, span: 2 }],
    ["negative axis with a span", [2, 3, 4, 5], { axis: -3, span: 2 }, { axis: 1, span: 2 }],
    ["the last axis (out-last)", [6, 9], -1, { axis: 1, span: 1 }],
  ];
  for (const [name, shape, unitAxis, axes] of cases) {
    test(`${name}: matches the float64 reference, unit means ≈ 0`, () => {
      const values = randomArray(shape.reduce((a, b) => a * b, 1), shape.length * 31 + shape[0], 3);
      const g = tf.tensor(values, shape);
      const out = centralizeTensor(g, { unitAxis });
      expect(out.shape).toEqual(shape);
      expect(maxAbsDiff(out.dataSync(), centralizeAxesReference(values, shape, axes))).toBeLessThanOrEqual(5e-7);
      expect(largestUnitMean(out.dataSync(), shape, axes)).toBeLessThanOrEqual(5e-7);
      tf.dispose([g, out]);
    });
  }

  test("layout { unitAxis: k } (the main entry's layouts) is the same as unitAxis k; out of range throws by name", () => {
    const shape = [3, 3, 6, 4];
    const values = randomArray(size(shape), 5, 1);
    const g = tf.tensor(values, shape);
    const viaLayout = centralizeTensor(g, { layout: { unitAxis: -2 } });
    const viaOption = centralizeTensor(g, { unitAxis: -2 });
    expect(Array.from(viaLayout.dataSync())).toEqual(Array.from(viaOption.dataSync()));
    expect(maxAbsDiff(viaLayout.dataSync(), centralizeAxesReference(values, shape, { axis: 2, span: 1 }))).toBeLessThanOrEqual(5e-7);
    expect(() => centralizeTensor(g, { layout: { unitAxis: 4 } })).toThrow(RangeError);
    expect(() => centralizeTensor(g, { layout: { unitAxis: 4 } })).toThrow(/^centralizeTensor: options\.layout\.unitAxis 4 is out of range for a rank-4 tensor/);
    expect(() => centralizeTensor(g, { layout: { axis: 1 } as unknown as "out-last" })).toThrow(/options\.layout\.axis is not a field of a layout/);
    const sgd = tf.train.sgd(0);
    const seen: Float32Array[] = [];
    sgd.applyGradients = (grads) => void seen.push(...(grads as { tensor: tf.Tensor }[]).map((e) => e.tensor.dataSync() as Float32Array));
    withGradientCentralization(sgd, { layout: { unitAxis: 0 } });
    const v = tf.variable(tf.zeros(shape), true, `layout-axis-${backend}`);
    sgd.applyGradients([{ name: v.name, tensor: g }]);
    expect(maxAbsDiff(seen[0], centralizeAxesReference(values, shape, { axis: 0, span: 1 }))).toBeLessThanOrEqual(5e-7);
    tf.dispose([g, viaLayout, viaOption, v]);
  });

  test("the JSDoc examples; unitView's", () => {
    const g = tf.tensor2d([[1, 10], [3, 30]]);
    const rows = centralizeTensor(g, { unitAxis: 0 });
    expect(rows.arraySync()).toEqual([[-4.5, 4.5], [-13.5, 13.5]]);
    expect(unitView([3, 3, 8, 2], { axis: 2, span: 2 })).toEqual([9, 16, 1]);
    expect(unitView([5, 7], { axis: 0, span: 1 })).toEqual([1, 5, 7]);
    tf.dispose([g, rows]);
  });

  test("bad unitAxis throws a TypeError or RangeError naming centralizeTensor, before creating a tensor", () => {
    const g = tf.zeros([3, 4]);
    const start = tf.memory().numTensors;
    const cases: [() => unknown, ErrorConstructor, RegExp][] = [
      [() => centralizeTensor(g, { unitAxis: 2 }), RangeError, /^centralizeTensor: options\.unitAxis 2 is out of range for rank 2/],
      [() => centralizeTensor(g, { unitAxis: -3 }), RangeError, /options\.unitAxis -3 is out of range/],
      [() => centralizeTensor(g, { unitAxis: { axis: 1, span: 2 } }), RangeError, /^centralizeTensor: options\.unitAxis span 2 from axis 1 does not fit rank 2$/],
      [() => centralizeTensor(g, { unitAxis: { axis: 0, span: 0 } }), RangeError, /span 0/],
      [() => centralizeTensor(g, { unitAxis: 0.5 }), TypeError, /^centralizeTensor: options\.unitAxis must be an integer axis or \{ axis, span \} of integers, got 0\.5$/],
      [() => centralizeTensor(g, { unitAxis: "last" as unknown as number }), TypeError, /got string/],
      [() => centralizeTensor(g, { unitAxis: { axis: 1 } as { axis: number; span: number } }), TypeError, /got \{ axis: 1, span: undefined \}/],
      [() => centralizeTensor(g, { unitAxis: 0, layout: "out-last" }), TypeError, /^centralizeTensor: options\.layout and options\.unitAxis name the unit axis twice; pass one$/],
    ];
    for (const [call, type, message] of cases) {
      expect(call).toThrow(type);
      expect(call).toThrow(message);
    }
    expect(tf.memory().numTensors).toBe(start);
    g.dispose();
  });
});
