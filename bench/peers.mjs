// The implementations GC is compared with: a plain JavaScript loop and TF.js, and the memory limit.
import { readFileSync } from "node:fs";

/** Deterministic values offset + scale·(u − 0.5), u uniform on [0, 1) from an LCG: repeatable runs. */
export function seededValues(n, seed, scale = 1, offset = 0) {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = offset + scale * (a / 2 ** 32 - 0.5);
  }
  return out;
}

/** Plain JavaScript GC in place, float64 sums: rows (out-first) or columns (out-last). */
export function plainCentralize(g, rows, cols, unitsAreRows) {
  if (unitsAreRows) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += g[o + c];
      const mean = sum / cols;
      for (let c = 0; c < cols; c++) g[o + c] -= mean;
    }
    return;
  }
  const sums = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sums[c] += g[r * cols + c];
  for (let c = 0; c < cols; c++) sums[c] /= rows;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) g[r * cols + c] -= sums[c];
}

/** Plain JavaScript Adam (torch.optim rules) over Float32Arrays, optionally with GC of g first. */
export function plainAdamStep(p, t, { lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = {}) {
  const bc1 = 1 - beta1 ** t;
  const bc2 = 1 - beta2 ** t;
  const { w, g, m, v } = p;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gi);
    const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
    w[i] -= (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
  }
}

/** The limit kernels (bench/assembly/limits.ts) with a bump allocator over their own memory. */
export function loadLimits(url) {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(url)), {});
  return { exports, alloc: bumpAllocator(exports.memory), f32: () => new Float32Array(exports.memory.buffer) };
}

/** alloc(floats) → the address of that many floats in `memory`, 16-aligned from 64 KiB on, growing it as needed; never freed. */
export function bumpAllocator(memory) {
  let top = 65536;
  return (floats) => {
    const bytes = Math.ceil((floats * 4) / 16) * 16;
    const need = top + bytes - memory.buffer.byteLength;
    if (need > 0) memory.grow(Math.ceil(need / 65536));
    const ptr = top;
    top += bytes;
    return ptr;
  };
}

/** TF.js with a named backend ("cpu" or "wasm"), ready to use. */
export async function loadTf(backendName) {
  const tf = await import("@tensorflow/tfjs");
  if (backendName === "wasm") {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const dir = new URL("../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url).pathname;
    wasm.setWasmPaths(dir);
  }
  await tf.setBackend(backendName);
  await tf.ready();
  return tf;
}
