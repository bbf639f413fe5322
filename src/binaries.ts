import { scalarBase64, simdBase64 } from "./generated/binaries.js";

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const chars = atob(text);
  const bytes = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i++) bytes[i] = chars.charCodeAt(i);
  return bytes;
}

/** The embedded release binary: the v128 SIMD build or the scalar build of the same source. */
export function embeddedBinary(build: "simd" | "scalar"): Uint8Array<ArrayBuffer> {
  return decodeBase64(build === "simd" ? simdBase64 : scalarBase64);
}

/**
 * The embedded SIMD + threads build. Its base64 lives in a module of its own, loaded by this
 * dynamic import() only when `init({ threads })` asks for it: in the published package a separate
 * chunk (dist/threads-binary.js, dist/cjs/threads-binary.js), so the main entry does not carry it.
 */
export async function embeddedThreadsBinary(): Promise<Uint8Array<ArrayBuffer>> {
  const { threadsBase64 } = await import("./generated/threads-binary.js");
  return decodeBase64(threadsBase64);
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

/** The SIMD + threads build this entry ships with (`init({ threads })`, loaded on demand), or undefined where there is none. */
export function bundledThreadsKernels(): Promise<Uint8Array<ArrayBuffer> | undefined> {
  return embeddedThreadsBinary();
}
