// The browser demo trains a tf.layers conv net on TF.js's wasm backend, which has no
// Conv2DBackpropFilter kernel; examples/browser/wasm-conv2d-grad.js registers one. Its gradients
// must equal the cpu backend's own kernel's (the oracle) for the demo's shape and for strides,
// paddings, channels and odd sizes the demo does not use.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, expect, test } from "vitest";
// @ts-expect-error: a plain JS example module without type declarations
import { registerWasmConv2dBackpropFilter } from "../examples/browser/wasm-conv2d-grad.js";
import { randomArray } from "./random.js";

beforeAll(async () => {
  await tf.setBackend("wasm");
  expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBeUndefined(); // TF.js 4.22: the reason the file exists
  expect(registerWasmConv2dBackpropFilter()).toBe(true);
  expect(registerWasmConv2dBackpropFilter()).toBe(false); // registered once
});

/** The gradient of Σ r · conv2d(x, w) with respect to w, on `backend`. */
async function kernelGradient(backend: string, x: Float32Array, xShape: number[], w: Float32Array, wShape: number[], r: Float32Array, strides: number, pad: "same" | "valid") {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const [xt, wt] = [tf.tensor4d(x, xShape as [number, number, number, number]), tf.tensor4d(w, wShape as [number, number, number, number])];
    const grad = tf.grad((kernel) => {
      const y = tf.conv2d(xt, kernel as tf.Tensor4D, strides, pad);
      return tf.sum(tf.mul(y, tf.tensor(r.subarray(0, y.size), y.shape)));
    });
    return grad(wt).dataSync().slice();
  });
}

const CASES: { name: string; x: number[]; w: number[]; strides: number; pad: "same" | "valid" }[] = [
  { name: "the demo's: 8×8×1 images, 3×3 ×8, same", x: [32, 8, 8, 1], w: [3, 3, 1, 8], strides: 1, pad: "same" },
  { name: "3 channels in, 5 out, 3×2 kernel, stride 2, valid", x: [3, 9, 7, 3], w: [3, 2, 3, 5], strides: 2, pad: "valid" },
  { name: "stride 2, same (uneven padding)", x: [2, 7, 6, 2], w: [3, 3, 2, 4], strides: 2, pad: "same" },
  { name: "1×1 kernel", x: [4, 5, 5, 6], w: [1, 1, 6, 3], strides: 1, pad: "valid" },
];

test.each(CASES)("wasm Conv2DBackpropFilter equals the cpu backend's: $name", async ({ x, w, strides, pad }) => {
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const xs = randomArray(size(x), size(x) + 1);
  const ws = randomArray(size(w), size(w) + 2);
  const r = randomArray(size(x) * size(w), 7); // more than any output needs
  const cpu = await kernelGradient("cpu", xs, x, ws, w, r, strides, pad);
  const wasm = await kernelGradient("wasm", xs, x, ws, w, r, strides, pad);
  expect(wasm.length).toBe(size(w));
  const scale = Math.max(...Array.from(cpu, Math.abs));
  expect(scale).toBeGreaterThan(0);
  for (let i = 0; i < cpu.length; i++) expect(Math.abs(wasm[i] - cpu[i]), `element ${i}`).toBeLessThanOrEqual(1e-5 * scale);
});
