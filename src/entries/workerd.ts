// The kernels of the `workerd` entry (Cloudflare Workers), bundled in place of src/binaries.ts by
// rollup.config.mjs. workerd refuses to compile wasm from bytes, so the two builds are imported as
// `.wasm` modules (wrangler and miniflare turn them into compiled `WebAssembly.Module`s), and
// `init()` / `initSync()` without a source instantiate them: the API is the same as everywhere.
import scalarModule from "./gc.scalar.wasm";
import simdModule from "./gc.simd.wasm";

/** The kernels this entry ships with: the imported `WebAssembly.Module` of the SIMD or scalar build. */
export function bundledKernels(build: "simd" | "scalar"): WebAssembly.Module {
  return build === "simd" ? simdModule : scalarModule;
}

/** No threads build here: this runtime has no workers over shared memory (init({ threads }) falls back to one thread). */
export async function bundledThreadsKernels(): Promise<undefined> {
  return undefined;
}
