// The kernels of the `edge-light` entry (Vercel Edge, Next.js edge routes), bundled in place of
// src/binaries.ts by rollup.config.mjs. The edge runtime forbids compiling wasm from bytes; its
// bundlers turn a `.wasm?module` import into a compiled `WebAssembly.Module`, which `init()` /
// `initSync()` without a source instantiate: the API is the same as everywhere.
import scalarModule from "./gc.scalar.wasm?module";
import simdModule from "./gc.simd.wasm?module";

/** The kernels this entry ships with: the imported `WebAssembly.Module` of the SIMD or scalar build. */
export function bundledKernels(build: "simd" | "scalar"): WebAssembly.Module {
  return build === "simd" ? simdModule : scalarModule;
}

/** No threads build here: this runtime has no workers over shared memory (init({ threads }) falls back to one thread). */
export async function bundledThreadsKernels(): Promise<undefined> {
  return undefined;
}
