import { scalarBase64, simdBase64 } from "./generated/binaries.js";

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const chars = atob(text);
  const bytes = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i++) bytes[i] = chars.charCodeAt(i);
  return bytes;
}

/** The embedded release binary: the v128 SIMD build, or the scalar build of the same source. */
export function embeddedBinary(build: "simd" | "scalar"): Uint8Array<ArrayBuffer> {
  return decodeBase64(build === "simd" ? simdBase64 : scalarBase64);
}
