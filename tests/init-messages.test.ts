// Issue 10, item 13 for init: a source that is not this package's .wasm (garbage bytes, an HTML
// page, a 404 Response) is a TypeError naming `init: options.source` (the engine's error as its
// cause), and init's options are read as own properties only (item 4).
import { beforeEach, expect, test, vi } from "vitest";

type Api = typeof import("../src/index.js");
const fresh = async (): Promise<Api> => import("../src/index.js");
beforeEach(() => vi.resetModules());

const html = new TextEncoder().encode("<!doctype html>\n<html><body>Not found</body></html>");

test.each<[string, () => unknown, RegExp]>([
  ["garbage bytes", () => new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), /^init: options\.source is not a valid gradient-centralization \.wasm \(/],
  ["an HTML page as bytes", () => html, /^init: options\.source is not a valid gradient-centralization \.wasm .*the bytes look like an HTML page/],
  ["an HTML page as a Response", () => new Response(html, { headers: { "content-type": "text/html" } }), /^init: options\.source .*look like an HTML page/],
  ["a 404 Response", () => new Response("Not found", { status: 404 }), /^init: options\.source is a Response with HTTP status 404, not a \.wasm/],
])("init with %s: a TypeError naming options.source, and init still works afterwards", async (_, source, message) => {
  const api = await fresh();
  const error = await api.init({ source: source() as never }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TypeError);
  expect((error as Error).message).toMatch(message);
  expect(await api.init()).toBe("simd");
});

test("initSync with garbage bytes: a TypeError naming options.source with the CompileError as its cause", async () => {
  const api = await fresh();
  let error: unknown;
  try {
    api.initSync({ source: html });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TypeError);
  expect((error as Error).message).toMatch(/^initSync: options\.source is not a valid gradient-centralization \.wasm .*HTML page/);
  expect((error as Error).cause).toBeInstanceOf(WebAssembly.CompileError);
});

test("Object.prototype.simd = false does not force the scalar build", async () => {
  const api = await fresh();
  const proto = Object.prototype as Record<string, unknown>;
  proto.simd = false;
  let backend: string;
  try {
    backend = api.initSync();
  } finally {
    delete proto.simd;
  }
  expect(backend).toBe("simd");
});
