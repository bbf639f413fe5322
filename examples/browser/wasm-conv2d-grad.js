// TF.js 4.22's wasm backend has no Conv2DBackpropFilter kernel, the gradient of a 2-D convolution
// with respect to its kernel, so a conv net cannot train on it ("Kernel 'Conv2DBackpropFilter' not
// registered for backend 'wasm'"). This registers one, written out in JavaScript like the cpu
// backend's: fine for the demo's small conv net. A TF.js whose wasm backend has its own keeps it.
import { backend_util, getKernel, registerKernel } from "@tensorflow/tfjs-core";

/**
 * dW[kh, kw, ci, co] = Σ over batch b and output position (oh, ow) of
 * x[b, oh·sh + kh − top, ow·sw + kw − left, ci] · dy[b, oh, ow, co] (NHWC, positions outside x skipped).
 */
function conv2dBackpropFilter({ inputs: { x, dy }, backend, attrs: { strides, pad, dataFormat, dimRoundingMode, filterShape } }) {
  if (dataFormat !== "NHWC") throw new Error(`Conv2DBackpropFilter (wasm, examples/browser): dataFormat ${dataFormat} is not supported, only NHWC`);
  const info = backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode, false, "channelsLast");
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const xs = backend.readSync(x.dataId);
  const dys = backend.readSync(dy.dataId);
  const dw = new Float32Array(filterHeight * filterWidth * inChannels * outChannels);
  const sums = new Float64Array(outChannels);
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      for (let ci = 0; ci < inChannels; ci++) {
        sums.fill(0);
        for (let b = 0; b < batchSize; b++) {
          for (let oh = 0; oh < outHeight; oh++) {
            const ih = oh * strideHeight + kh - top;
            if (ih < 0 || ih >= inHeight) continue;
            for (let ow = 0; ow < outWidth; ow++) {
              const iw = ow * strideWidth + kw - left;
              if (iw < 0 || iw >= inWidth) continue;
              const xv = xs[((b * inHeight + ih) * inWidth + iw) * inChannels + ci];
              const row = ((b * outHeight + oh) * outWidth + ow) * outChannels;
              for (let co = 0; co < outChannels; co++) sums[co] += xv * dys[row + co];
            }
          }
        }
        dw.set(sums, ((kh * filterWidth + kw) * inChannels + ci) * outChannels);
      }
    }
  }
  return backend.makeOutput(filterShape, "float32", undefined, dw);
}

/** Registers the kernel for the wasm backend unless it has one; true when it registered it. */
export function registerWasmConv2dBackpropFilter() {
  if (getKernel("Conv2DBackpropFilter", "wasm")) return false;
  registerKernel({ kernelName: "Conv2DBackpropFilter", backendName: "wasm", kernelFunc: conv2dBackpropFilter });
  return true;
}
