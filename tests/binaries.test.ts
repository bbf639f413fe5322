// The release binaries: SIMD really uses v128, scalar uses none, neither imports anything; the
// threads build imports one shared memory and a clock, has nothing to initialize in it, and
// exports the same kernels plus its split entry.
import binaryen from "binaryen";
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { embeddedBinary, embeddedThreadsBinary } from "../src/binaries.js";

const bytes = (build: "simd" | "scalar" | "threads") => readFileSync(new URL(`../build/gc.${build}.wasm`, import.meta.url));
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
  const imported = new Set([...text.matchAll(/\(import "[^"]*" "[^"]*" \(func (\S+)/g)].map((m) => m[1]));
  const seen = new Set<string>([internal!]);
  const bodies: string[] = [];
  for (const name of seen) {
    const body = bodyOf(text, name);
    bodies.push(body);
    for (const [, callee] of body.matchAll(/\(call ([^\s)]+)/g)) if (!imported.has(callee)) seen.add(callee);
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

test("the embedded binaries are the built ones (the threads build from its own module, loaded on demand)", async () => {
  expect(Buffer.from(embeddedBinary("simd")).equals(bytes("simd"))).toBe(true);
  expect(Buffer.from(embeddedBinary("scalar")).equals(bytes("scalar"))).toBe(true);
  expect(Buffer.from(await embeddedThreadsBinary()).equals(bytes("threads"))).toBe(true);
});

/** The ids of a wasm binary's sections, in order (custom sections included). */
function sectionIds(binary: Uint8Array): number[] {
  const ids: number[] = [];
  for (let at = 8; at < binary.length; ) {
    ids.push(binary[at++]);
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = binary[at++];
      size += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    at += size;
  }
  return ids;
}

test("the threads build: two imports, a shared memory of at most 2 GiB and a clock, no data or start to run per instance, the same kernels", async () => {
  const { THREADS_MAX_PAGES } = await import("../src/threads/start.js");
  const binary = bytes("threads");
  const module = new WebAssembly.Module(binary);
  // the clock: how long a thread waiting inside a kernel for another thread's chunks waited (assembly/threads.ts waitDone)
  expect(WebAssembly.Module.imports(module)).toEqual([
    { module: "env", name: "now", kind: "function" },
    { module: "env", name: "memory", kind: "memory" },
  ]);
  const text = binaryen.readBinary(binary).emitText();
  expect(text).toMatch(new RegExp(`\\(import "env" "memory" \\(memory \\$\\S+ \\d+ ${THREADS_MAX_PAGES} shared\\)\\)`));
  // Every worker instantiates the module over the same memory: a data segment (id 11) or a start
  // function (id 8) would run again in each, writing memory the others use.
  expect(sectionIds(binary).filter((id) => id === 8 || id === 11 || id === 12)).toEqual([]);
  const names = (b: Uint8Array<ArrayBuffer>) => WebAssembly.Module.exports(new WebAssembly.Module(b)).map((e) => e.name).sort();
  const simd = names(bytes("simd"));
  expect(names(binary)).toEqual([...simd, "clipNormTotal", "isThreadsBuild", "manySumsBytes", "runShare", "stepSumsBytes", "viewSumsBytes"].sort());
  const memory = new WebAssembly.Memory({ initial: 1, maximum: THREADS_MAX_PAGES, shared: true });
  const instance = new WebAssembly.Instance(module, { env: { memory, now: () => performance.now() } });
  expect((instance.exports.isSimdBuild as () => number)()).toBe(1);
  expect(functionText(text, "runShare")).toMatch(/f32x4\.sub/);
});
