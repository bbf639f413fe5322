import { scalarBase64, simdBase64, threadsBase64 } from "./generated/binaries.js";

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const chars = atob(text);
  const bytes = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i++) bytes[i] = chars.charCodeAt(i);
  return bytes;
}

/** The embedded release binary: the v128 SIMD build, the scalar build, or the SIMD + threads build of the same source. */
export function embeddedBinary(build: "simd" | "scalar" | "threads"): Uint8Array<ArrayBuffer> {
  return decodeBase64(build === "simd" ? simdBase64 : build === "scalar" ? scalarBase64 : threadsBase64);
}

/**
 * The kernels this entry ships with, used when `init`/`initSync` get no `options.source`.
 * Here (the default ESM, CJS and browser entries): the embedded bytes. The `workerd` and
 * `edge-light` entries are bundled with src/entries/workerd.ts or src/entries/edge.ts in place of
 * this file (see rollup.config.mjs): there it is the `WebAssembly.Module` of the imported `.wasm`.
 */
export function bundledKernels(build: "simd" | "scalar"): Uint8Array<ArrayBuffer> | WebAssembly.Module {
  return embeddedBinary(build);
}

/** The SIMD + threads build this entry ships with (`init({ threads })`), or undefined where there is none. */
export function bundledThreadsKernels(): Uint8Array<ArrayBuffer> | undefined {
  return embeddedBinary("threads");
}
