// The two release binaries: SIMD really uses v128, scalar uses none, neither imports anything.
import binaryen from "binaryen";
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { embeddedBinary } from "../src/binaries.js";

const bytes = (build: "simd" | "scalar") => readFileSync(new URL(`../build/gc.${build}.wasm`, import.meta.url));
const disassemble = (build: "simd" | "scalar") => binaryen.readBinary(bytes(build)).emitText();

/** The text of one function of a disassembled module, by its internal name. */
function bodyOf(text: string, internal: string): string {
  const start = text.indexOf(`(func ${internal} `);
  expect(start, internal).toBeGreaterThanOrEqual(0);
  return text.slice(start, text.indexOf("\n (func ", start + 1));
}

/** The text of an exported function and of every function it calls, directly or not. */
function functionText(text: string, exportName: string): string {
  const internal = text.match(new RegExp(`\\(export "${exportName}" \\(func (\\S+)\\)\\)`))?.[1];
  expect(internal, exportName).toBeDefined();
  const seen = new Set<string>([internal!]);
  const bodies: string[] = [];
  for (const name of seen) {
    const body = bodyOf(text, name);
    bodies.push(body);
    for (const [, callee] of body.matchAll(/\(call (\S+)/g)) seen.add(callee);
  }
  return bodies.join("\n");
}

test("the SIMD build reduces and subtracts with v128 instructions", () => {
  const text = disassemble("simd");
  for (const kernel of ["centralizeRows", "centralizeColumns"]) {
    const body = functionText(text, kernel);
    expect(body, kernel).toMatch(/f64x2\.promote_low_f32x4/); // float64 mean accumulation
    expect(body, kernel).toMatch(/f32x4\.sub/); // 4-wide subtraction
    expect(body, kernel).toMatch(/v128\.store/);
  }
});

test("the scalar build has no v128 instruction at all", () => {
  expect(disassemble("scalar")).not.toMatch(/v128|f32x4|f64x2|i32x4/);
});

test("both builds have no imports, export the same kernels, and say which they are", () => {
  const exports = (build: "simd" | "scalar") => {
    const module = new WebAssembly.Module(bytes(build));
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    const instance = new WebAssembly.Instance(module, {});
    expect((instance.exports.isSimdBuild as () => number)()).toBe(build === "simd" ? 1 : 0);
    return WebAssembly.Module.exports(module).map((e) => e.name).sort();
  };
  expect(exports("simd")).toEqual(exports("scalar"));
  expect(exports("simd")).toContain("centralizeRows");
});

test("the embedded binaries are the built ones", () => {
  expect(Buffer.from(embeddedBinary("simd")).equals(bytes("simd"))).toBe(true);
  expect(Buffer.from(embeddedBinary("scalar")).equals(bytes("scalar"))).toBe(true);
});
