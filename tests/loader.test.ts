// init / initSync / backend: every accepted source, the build choice, retries, use before init.
// Each test imports a fresh copy of the package, so each starts uninitialized.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, expect, test, vi } from "vitest";

type Api = typeof import("../src/index.js");
const fresh = async (): Promise<Api> => import("../src/index.js");
beforeEach(() => vi.resetModules());

const simdBytes = readFileSync(new URL("../build/gc.simd.wasm", import.meta.url));
const scalarBytes = readFileSync(new URL("../build/gc.scalar.wasm", import.meta.url));

/** GC of a [2, 3] gradient through the freshly loaded package: proves the kernels run. */
function works(api: Api) {
  expect(Array.from(api.centralize(new Float32Array([1, 2, 3, 4, 5, 9]), [2, 3]))).toEqual([-1, 0, 1, -2, -1, 3]);
}

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const file = req.url === "/gc.simd.wasm" ? simdBytes : req.url === "/plain.wasm" ? scalarBytes : undefined;
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": req.url === "/plain.wasm" ? "application/octet-stream" : "application/wasm" }).end(file);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

test("before init, every entry point throws a TypeError that says to call init", async () => {
  const api = await fresh();
  const calls: [string, () => unknown][] = [
    ["centralize", () => api.centralize(new Float32Array(4), [2, 2])],
    ["centralizeAll", () => api.centralizeAll([])],
    ["gradientStats", () => api.gradientStats(new Float32Array(4), [2, 2])],
    ["new Tensor", () => new api.Tensor([2])],
    ["Tensor.from", () => api.Tensor.from([1, 2])],
    ["backend", () => api.backend()],
  ];
  for (const [name, call] of calls) {
    expect(call, name).toThrow(TypeError);
    expect(call, name).toThrow(new RegExp(`^${name}: .*init\\(\\)`));
  }
});

test("init() picks the embedded SIMD build where WebAssembly.validate accepts it", async () => {
  const api = await fresh();
  expect(WebAssembly.validate(simdBytes)).toBe(true);
  expect(await api.init()).toBe("simd");
  expect(api.backend()).toBe("simd");
  works(api);
});

test("init() falls back to the scalar build when the engine refuses SIMD", async () => {
  const validate = vi.spyOn(WebAssembly, "validate").mockReturnValue(false);
  try {
    const api = await fresh();
    expect(await api.init()).toBe("scalar");
    works(api);
  } finally {
    validate.mockRestore();
  }
});

test("init({ simd: false }) and initSync({ simd: false }) force the scalar build", async () => {
  const a = await fresh();
  expect(await a.init({ simd: false })).toBe("scalar");
  works(a);
  vi.resetModules();
  const b = await fresh();
  expect(b.initSync({ simd: false })).toBe("scalar");
  works(b);
});

test.each([
  ["a WebAssembly.Module", () => new WebAssembly.Module(simdBytes), "simd"],
  ["a Uint8Array", () => new Uint8Array(scalarBytes), "scalar"],
  ["an ArrayBuffer", () => scalarBytes.buffer.slice(scalarBytes.byteOffset, scalarBytes.byteOffset + scalarBytes.length), "scalar"],
  ["a Response", () => new Response(simdBytes, { headers: { "content-type": "application/wasm" } }), "simd"],
  ["a Response without the wasm content type", () => new Response(scalarBytes), "scalar"],
  ["a URL", () => new URL(`${base}/gc.simd.wasm`), "simd"],
  ["a URL string served as octet-stream", () => `${base}/plain.wasm`, "scalar"],
] as const)("init({ source: %s })", async (_, source, expected) => {
  const api = await fresh();
  expect(await api.init({ source: source() as never })).toBe(expected);
  expect(api.backend()).toBe(expected);
  works(api);
});

test("initSync accepts a Module or bytes, and refuses a Response or URL with a TypeError", async () => {
  const api = await fresh();
  expect(() => api.initSync({ source: new Response(simdBytes) as never })).toThrow(/initSync: options\.source must be a WebAssembly\.Module or bytes/);
  expect(() => api.initSync({ source: new URL(`${base}/gc.simd.wasm`) as never })).toThrow(TypeError);
  expect(api.initSync({ source: new WebAssembly.Module(scalarBytes) })).toBe("scalar");
  works(api);
});

test("a failed init can be retried", async () => {
  const api = await fresh();
  await expect(api.init({ source: new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]) })).rejects.toThrow(/init: options\.source is not a valid gradient-centralization \.wasm/);
  await expect(api.init({ source: `${base}/missing.wasm` })).rejects.toThrow(/HTTP 404/);
  expect(() => api.backend()).toThrow(TypeError);
  expect(await api.init()).toBe("simd");
  works(api);
});

test("init is idempotent: concurrent and later calls share the first result", async () => {
  const api = await fresh();
  const [a, b] = await Promise.all([api.init({ simd: false }), api.init()]);
  expect([a, b]).toEqual(["scalar", "scalar"]);
  expect(await api.init()).toBe("scalar");
  expect(api.initSync()).toBe("scalar");
  const t = new api.Tensor([2]); // the same memory is kept
  expect(await api.init()).toBe("scalar");
  expect(t.data.length).toBe(2);
});

test("initSync() while init() is pending: one instance, which the pending init() then reports", async () => {
  const api = await fresh();
  const pending = api.init({ simd: false });
  expect(api.initSync()).toBe("simd");
  const t = api.Tensor.from([1, 2, 3, 4, 5, 9], [2, 3]);
  expect(await pending).toBe("simd"); // the runtime initSync made is kept
  expect(api.backend()).toBe("simd");
  api.centralize(t);
  expect(Array.from(t.data)).toEqual([-1, 0, 1, -2, -1, 3]);
});

test("a file: URL that this runtime's fetch cannot read is rejected naming options.source", async () => {
  const api = await fresh();
  const url = new URL("../build/gc.simd.wasm", import.meta.url);
  await expect(api.init({ source: url })).rejects.toThrow(/init: options\.source file:.* could not be fetched .*pass the bytes/);
  expect(await api.init({ source: readFileSync(url) })).toBe("simd");
});

test("bad options are rejected by name", async () => {
  const api = await fresh();
  await expect(api.init({ simd: "no" } as never)).rejects.toThrow(/init: options\.simd must be a boolean/);
  await expect(api.init({ sorce: simdBytes } as never)).rejects.toThrow(/init: options\.sorce is not an option/);
  await expect(api.init({ source: 42 } as never)).rejects.toThrow(/options\.source must be a WebAssembly\.Module, bytes, a Response or a URL, got number/);
  await expect(api.init({ source: simdBytes, simd: false })).rejects.toThrow(/options\.simd is false but options\.source is the SIMD build/);
  const foreign = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]); // a valid, empty module
  await expect(api.init({ source: foreign })).rejects.toThrow(/not a gradient-centralization kernel module/);
  expect(await api.init()).toBe("simd");
});

/**
 * A valid wasm module with a memory and the two exports init() used to check (isSimdBuild and
 * centralizeRows, both returning 0) but none of the others: an older or foreign build.
 */
function moduleLackingExports(): Uint8Array<ArrayBuffer> {
  const name = (text: string) => [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const exports = [3, ...name("memory"), 0x02, 0, ...name("isSimdBuild"), 0x00, 0, ...name("centralizeRows"), 0x00, 1];
  const body = [4, 0x00, 0x41, 0x00, 0x0b]; // no locals; i32.const 0; end
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 0, 1, 0x7f]), // type 0: () -> i32
    ...section(3, [2, 0, 0]), // two functions of type 0
    ...section(5, [1, 0x00, 1]), // one memory, 1 page
    ...section(7, exports),
    ...section(10, [2, ...body, ...body]),
  ]);
}

test("a module lacking an export is refused naming what it lacks, and init() works afterwards (not wedged)", async () => {
  const api = await fresh();
  const bad = moduleLackingExports();
  expect(WebAssembly.validate(bad as Uint8Array<ArrayBuffer>)).toBe(true);
  await expect(api.init({ source: bad })).rejects.toThrow(TypeError);
  await expect(api.init({ source: bad })).rejects.toThrow(
    /^init: options\.source is not a gradient-centralization kernel module of this version \(it lacks the exports heapBase, centralizeColumns, /,
  );
  expect(() => api.initSync({ source: bad })).toThrow(/^initSync: options\.source is not a gradient-centralization kernel module/);
  expect(await api.init({ simd: false })).toBe("scalar");
  works(api);
});
