// init({ threads }): its option checks, the silent fallback where shared memory or workers are
// missing, shutdown(), and a Node process that exits normally with its workers started. Each test
// loads a fresh copy of the package (init is once per module instance); the processes run the
// built dist/ (npm test builds first).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeEach, expect, test, vi } from "vitest";

type Api = typeof import("../src/index.js");
const fresh = async (): Promise<Api> => import("../src/index.js");
beforeEach(() => vi.resetModules());

test.each<[unknown, ErrorConstructor, RegExp]>([
  [1, RangeError, /^init: options\.threads must be an integer from 2 to 64 or "auto", got 1$/],
  [2.5, RangeError, /^init: options\.threads must be an integer from 2 to 64 or "auto", got 2\.5$/],
  [65, RangeError, /got 65$/],
  [Number.NaN, RangeError, /got NaN$/],
  ["4", TypeError, /^init: options\.threads must be an integer ≥ 2 or "auto", got string$/],
  [true, TypeError, /got boolean$/],
])("init({ threads: %j }) is refused (%s), and init works afterwards", async (threads, type, message) => {
  const api = await fresh();
  const error = await api.init({ threads: threads as never }).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  expect(await api.init()).toBe("simd");
});

test("initSync({ threads }) is a TypeError: workers start asynchronously", async () => {
  const api = await fresh();
  expect(() => api.initSync({ threads: 2 })).toThrow(/^initSync: options\.threads needs init\(\)/);
  expect(api.initSync()).toBe("simd");
});

test("init({ threads: 2 }) in Node: simd-threads, results as the SIMD build's, shutdown() goes back to one thread", async () => {
  const api = await fresh();
  expect(await api.init({ threads: 2 })).toBe("simd-threads");
  expect(api.backend()).toBe("simd-threads");
  const g = new Float32Array(512 * 300).map((_, i) => Math.sin(i) * 3 + (i % 300));
  const split = api.centralize(g.slice(), [512, 300], { layout: "out-last" });
  api.shutdown();
  expect(api.backend()).toBe("simd");
  api.shutdown(); // idempotent
  const one = api.centralize(g.slice(), [512, 300], { layout: "out-last" });
  expect(new Uint32Array(split.buffer)).toEqual(new Uint32Array(one.buffer));
  // the SIMD build itself (another module instance) gives the same bits
  vi.resetModules();
  const simd = await fresh();
  simd.initSync();
  const reference = simd.centralize(g.slice(), [512, 300], { layout: "out-last" });
  expect(new Uint32Array(split.buffer)).toEqual(new Uint32Array(reference.buffer));
});

test("init({ threads: 2, simd: false }) and init({ threads, source }) run one thread, silently", async () => {
  const scalar = await fresh();
  expect(await scalar.init({ threads: 2, simd: false })).toBe("scalar");
  vi.resetModules();
  const { embeddedBinary } = await import("../src/binaries.js");
  const sourced = await fresh();
  expect(await sourced.init({ threads: "auto", source: embeddedBinary("simd") })).toBe("simd");
});

const dist = new URL("../dist/index.js", import.meta.url).href;

/** Runs an ES module script in a new Node process; resolves to its stdout, rejects on a non-zero exit or after 60 s. */
function node(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 60_000, cwd: fileURLToPath(new URL("..", import.meta.url)) }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

test("a Node process with workers started exits by itself when its work is done (the workers are unref'd)", async () => {
  const out = await node(`
    import { init, backend, centralize } from ${JSON.stringify(dist)};
    console.log(await init({ threads: "auto" }), backend());
    const g = new Float32Array(1 << 18).map((_, i) => i % 7);
    centralize(g, [256, 1024]);
    console.log(Math.abs(g.slice(0, 1024).reduce((a, b) => a + b)) < 1e-3);
  `);
  const cores = (await import("node:os")).availableParallelism();
  expect(out).toBe(cores >= 2 ? "simd-threads simd-threads\ntrue" : "simd simd\ntrue");
}, 90_000);

test.each(["deno", "bun"])("a %s process with workers started exits by itself too (node:worker_threads, unref'd)", async (runtime) => {
  const binary = fileURLToPath(new URL(`../node_modules/.bin/${runtime}`, import.meta.url));
  const args = runtime === "deno" ? ["eval", "--no-lock"] : ["-e"];
  const script = `
    const { init, centralize } = await import(${JSON.stringify(dist)});
    const backend = await init({ threads: 2 });
    centralize(new Float32Array(1 << 18).fill(1), [256, 1024]);
    console.log(backend);
  `;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(binary, [...args, script], { timeout: 60_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim())));
  });
  expect(out).toBe("simd-threads");
}, 90_000);

test.each([
  ["no SharedArrayBuffer", "delete globalThis.SharedArrayBuffer;"],
  ["a page that is not cross-origin isolated", "globalThis.crossOriginIsolated = false;"],
])("fallback with %s: backend() is simd, results as usual", async (_, setup) => {
  const out = await node(`
    ${setup}
    const { init, backend, centralize } = await import(${JSON.stringify(dist)});
    console.log(await init({ threads: 2 }), backend());
    console.log(Array.from(centralize(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3])).join(","));
  `);
  expect(out).toBe("simd simd\n-1,0,1,-1,0,1");
}, 90_000);

test("a call under the split threshold runs the module's own kernels, as on the SIMD build; from it, the splitting ones while the pool runs", async () => {
  const api = await fresh();
  const { runtime } = await import("../src/runtime.js");
  const { DEFAULT_SPLIT_VALUES, splitJobs } = await import("../src/threads/dispatch.js");
  expect(await api.init({ threads: 2 })).toBe("simd-threads");
  const rt = runtime("test");
  expect(rt.splitting).not.toBe(rt.kernels);
  expect(rt.kernelsFor(640)).toBe(rt.kernels); // one [10, 64]
  expect(rt.kernelsFor(DEFAULT_SPLIT_VALUES - 1)).toBe(rt.kernels);
  expect(rt.kernelsFor(DEFAULT_SPLIT_VALUES)).toBe(rt.splitting);
  const jobs = splitJobs();
  api.centralize(new Float32Array(640).fill(1), [10, 64]);
  api.centralize(new Float32Array(DEFAULT_SPLIT_VALUES - 1024).fill(1), [(DEFAULT_SPLIT_VALUES >> 10) - 1, 1024]);
  expect(splitJobs()).toBe(jobs);
  const large = api.centralize(new Float32Array(DEFAULT_SPLIT_VALUES).map((_, i) => i % 7), [DEFAULT_SPLIT_VALUES >> 10, 1024]);
  expect(splitJobs()).toBe(jobs + 1);
  let rowSum = 0;
  for (let i = 0; i < 1024; i++) rowSum += i % 7; // row 0 (float64)
  for (let i = 0; i < 7; i++) expect(Math.abs(large[i] - (i - rowSum / 1024))).toBeLessThan(1e-6);
  api.shutdown();
  expect(rt.kernelsFor(DEFAULT_SPLIT_VALUES)).toBe(rt.kernels);
  vi.resetModules();
  const simd = await fresh();
  expect(simd.initSync()).toBe("simd");
  const one = (await import("../src/runtime.js")).runtime("test");
  expect(one.splitting).toBe(one.kernels);
  expect(one.kernelsFor(DEFAULT_SPLIT_VALUES)).toBe(one.kernels);
});

test("scratch: a call the threads build keeps on the calling thread takes one thread's, a call it splits (a view alone, or every view of a centralizeMany by the values of all of them) one per thread", async () => {
  const api = await fresh();
  const { runtime } = await import("../src/runtime.js");
  const { DEFAULT_SPLIT_VALUES } = await import("../src/threads/dispatch.js");
  expect(await api.init({ threads: 2 })).toBe("simd-threads");
  const rt = runtime("test");
  const { splitting: kernels, kernels: raw } = rt; // the splitting kernels, the module's exports
  const perThread = (outer: number, units: number) => Math.ceil(raw.viewScratchBytes(outer, units, 1) / 16) * 16;
  expect(raw.viewScratchBytes(10, 64, 1)).toBeGreaterThan(0); // out-last [10, 64]: column sums
  expect(rt.kernelsFor(640).viewScratchBytes(10, 64, 1)).toBe(raw.viewScratchBytes(10, 64, 1));
  expect(rt.kernelsFor(DEFAULT_SPLIT_VALUES).viewScratchBytes(10, 64, 1)).toBe(2 * perThread(10, 64));
  expect(rt.kernelsFor(1024 * 512).viewScratchBytes(1024, 512, 1)).toBe(2 * perThread(1024, 512));
  // and the calls themselves still give the one-thread bits (the SIMD build on one thread)
  const small = new Float32Array(640).map((_, i) => Math.sin(i) + (i % 64));
  const large = new Float32Array(1024 * 512).map((_, i) => Math.cos(i) * 2 + (i % 512));
  const threaded = api.centralizeAll([{ grad: small.slice(), shape: [10, 64] }, { grad: large.slice(), shape: [1024, 512] }], { layout: "out-last" });
  api.shutdown();
  expect(kernels.viewScratchBytes(1024, 512, 1)).toBe(raw.viewScratchBytes(1024, 512, 1));
  vi.resetModules();
  const simd = await fresh();
  simd.initSync();
  const reference = simd.centralizeAll([{ grad: small.slice(), shape: [10, 64] }, { grad: large.slice(), shape: [1024, 512] }], { layout: "out-last" });
  threaded.forEach((entry, k) => expect(new Uint32Array(entry.grad.buffer)).toEqual(new Uint32Array(reference[k].grad.buffer)));
});
