// A worker that dies or stops answering must not hang the calling thread (src/threads/pool.ts):
// after a wait without progress (shortened here through the pool's test hooks) the call gives
// up on the workers, the pool stops, and every later call runs on the calling thread. A share no
// worker took is run by the calling thread (the call completes, bit-identical); a share a worker
// took and did not finish makes the call throw. Inside a job whose threads wait for each other's
// chunks (out-last column units), the calling thread waits there with the same patience
// (assembly/threads.ts waitDone) and the call throws as well. Each test loads a fresh copy of the package.
import { beforeEach, expect, test, vi } from "vitest";
import { centralizeReference, maxAbsDiff } from "./oracle.js";

type Api = typeof import("../src/index.js");
beforeEach(() => vi.resetModules());

/** A fresh package with init({ threads }) done, its pool (internal) with a fixed 200 ms patience (not scaled by the calling thread's share). */
async function threaded(threads = 2) {
  const api: Api = await import("../src/index.js");
  const { runtime } = await import("../src/runtime.js");
  const { splitJobs, setSplitValues } = await import("../src/threads/dispatch.js");
  setSplitValues(1 << 16); // calls from 65,536 values are split (the default threshold is higher)
  const { OPEN, WORKER_RUNNING, DONE, CALLER_RUNNING } = await import("../src/threads/worker-source.js");
  expect(await api.init({ threads })).toBe("simd-threads");
  const pool = runtime("test").pool!;
  pool.minPatienceMs = 200;
  pool.patiencePerShare = 0;
  return { api, pool, splitJobs, OPEN, WORKER_RUNNING, DONE, CALLER_RUNNING };
}

/** A gradient whose rows have different means, over [rows, cols]. */
function gradient(rows: number, cols: number): Float32Array {
  return new Float32Array(rows * cols).map((_, i) => Math.sin(i * 0.37) * 3 + ((i / cols) | 0) % 17 - 4);
}

/** The SIMD build on one thread (another module instance): the bits every thread count must give. */
async function oneThread(g: Float32Array, shape: number[], layout: "out-first" | "out-last"): Promise<Float32Array> {
  vi.resetModules();
  const simd: Api = await import("../src/index.js");
  simd.initSync();
  return simd.centralize(g.slice(), shape, { layout });
}

test.each<[string, "out-first" | "out-last", boolean]>([
  ["Atomics.wait in slices", "out-first", false],
  ["spinning, as on a browser's main thread", "out-first", true],
  // out-last: a job whose threads wait for each other between its segments (column units): the
  // calling thread claims every chunk itself, its waits are for chunks it ran
  ["Atomics.wait in slices", "out-last", false],
  ["spinning, as on a browser's main thread", "out-last", true],
])("a worker terminated between calls (%s, %s): the next large call completes on the calling thread after the deadline, bit-identical; threads are off from then on", async (_, layout, spin) => {
  const { api, pool, splitJobs } = await threaded();
  pool.testHooks.spin = spin;
  const shape = [256, 512];
  const g = gradient(256, 512);
  pool.killWorkerForTests(1); // its exit event cannot arrive before the next (synchronous) call
  const jobs = splitJobs();
  const started = performance.now();
  const out = api.centralize(g.slice(), shape, { layout });
  const waited = performance.now() - started;
  expect(splitJobs()).toBeGreaterThan(jobs); // the call was published to the workers…
  expect(pool.lost).toBe("worker thread 1 of 2 did not take its share of a call (no progress for 200 ms): the calling thread ran it");
  expect(waited).toBeLessThan(20_000); // …and gave up (200 ms without progress): a guard against a hang, not a measurement
  expect(api.backend()).toBe("simd");
  expect(maxAbsDiff(out, centralizeReference(g, shape, layout))).toBeLessThan(1e-5);
  const other = layout === "out-first" ? "out-last" : "out-first";
  const jobsBefore = splitJobs();
  const later = api.centralize(g.slice(), shape, { layout: other });
  expect(splitJobs()).toBe(jobsBefore); // on the calling thread
  expect(maxAbsDiff(later, centralizeReference(g, shape, other))).toBeLessThan(1e-5);
  expect(new Uint32Array(out.buffer)).toEqual(new Uint32Array((await oneThread(g, shape, layout)).buffer));
  expect(new Uint32Array(later.buffer)).toEqual(new Uint32Array((await oneThread(g, shape, other)).buffer));
});

test("with 3 threads, worker 2 terminated: the calling thread runs share 2, worker 1 its own; the result is bit-identical", async () => {
  const { api, pool, DONE, CALLER_RUNNING } = await threaded(3);
  const shape = [192, 1024];
  const g = gradient(192, 1024);
  pool.killWorkerForTests(2);
  const out = api.centralize(g.slice(), shape);
  expect([pool.claimForTests(1), pool.claimForTests(2)]).toEqual([DONE, CALLER_RUNNING]);
  expect(pool.lost).toMatch(/^worker thread 2 of 3 did not take its share of a call \(no progress for 200 ms\): the calling thread ran it$/);
  expect(api.backend()).toBe("simd");
  expect(maxAbsDiff(out, centralizeReference(g, shape))).toBeLessThan(1e-5);
  expect(new Uint32Array(out.buffer)).toEqual(new Uint32Array((await oneThread(g, shape, "out-first")).buffer));
});

/**
 * Terminates worker 1 as soon as it has claimed its share of the next job published (the kill
 * lands asynchronously, mid-way through a job of milliseconds); returns its claim word as seen then.
 */
function killOnceClaimed(pool: Awaited<ReturnType<typeof threaded>>["pool"], open: number): () => number {
  let claim = open;
  pool.testHooks.afterPublish = (p) => {
    p.testHooks.afterPublish = undefined;
    const until = performance.now() + 10_000;
    while (p.claimForTests(1) === open && performance.now() < until);
    claim = p.claimForTests(1);
    p.killWorkerForTests(1);
  };
  return () => claim;
}

/** centralize of 4096 × 4096 ones in `layout` (16M values): its output, or what it threw, and how long it took. */
function centralizeOnes(api: Api, layout: "out-first" | "out-last"): { out?: Float32Array; thrown?: unknown; waited: number } {
  const started = performance.now();
  try {
    const out = api.centralize(new Float32Array(4096 * 4096).fill(1), [4096, 4096], { layout });
    return { out, waited: performance.now() - started };
  } catch (thrown) {
    return { thrown, waited: performance.now() - started };
  }
}

test("a worker that dies in the middle of its share: the call throws (its output may be incomplete), the next call is right on one thread", async () => {
  // The kill is asynchronous: on a loaded machine the worker can still finish its share before it
  // ends, and then the call completes and must be right. Fresh pools, until a kill lands mid-share.
  const message =
    /^gradient-centralization: worker thread 1 of 2 started its share of this call and made no progress for 200 ms: terminated, crashed or hung\. The output of this call .* may be incomplete: do not use it\. The worker threads were stopped and the package fell back to one thread: later calls run on the calling thread .*backend\(\) says "simd"\.$/;
  for (let attempt = 1; ; attempt++) {
    vi.resetModules();
    const { api, pool, OPEN, WORKER_RUNNING } = await threaded();
    const claim = killOnceClaimed(pool, OPEN);
    const { out, thrown } = centralizeOnes(api, "out-first");
    if (out !== undefined) {
      // the worker finished first: every row of ones centralized to zeros
      expect(out.every((x) => x === 0)).toBe(true);
      expect(attempt).toBeLessThan(5);
      continue;
    }
    expect(() => {
      throw thrown;
    }).toThrow(message);
    expect(claim()).toBe(WORKER_RUNNING);
    expect(pool.lost).toMatch(/^worker thread 1 of 2 took its share of a call and did not finish \(no progress for 200 ms\)$/);
    expect(api.backend()).toBe("simd");
    const g = gradient(300, 700);
    const result = api.centralize(g.slice(), [300, 700]);
    expect(maxAbsDiff(result, centralizeReference(g, [300, 700]))).toBeLessThan(1e-5);
    return;
  }
});

test.each([
  ["Atomics.wait in slices", false],
  ["spinning, as on a browser's main thread", true],
])("a worker that dies holding a chunk of an out-last job (%s): the calling thread gives up inside the kernel after the patience, the call throws, the next call is right on one thread", async (_, spin) => {
  // The kill is asynchronous: the worker may finish every chunk first (the call is then right),
  // or die between two chunks (the calling thread then runs the rest and the pool's own wait
  // gives up). Fresh pools, until the kill lands while the worker holds a chunk.
  const message =
    /^gradient-centralization: worker thread 1 of 2 started its share of this call and made no progress for 200 ms: terminated, crashed or hung\. The output of this call .* may be incomplete: do not use it\. .*backend\(\) says "simd"\.$/;
  for (let attempt = 1; ; attempt++) {
    vi.resetModules();
    const { api, pool, OPEN, WORKER_RUNNING } = await threaded();
    pool.testHooks.spin = spin;
    const claim = killOnceClaimed(pool, OPEN);
    const { out, thrown, waited } = centralizeOnes(api, "out-last");
    expect(attempt).toBeLessThan(8);
    if (out !== undefined) {
      expect(out.every((x) => x === 0)).toBe(true); // the worker finished first: every column of ones centralized to zeros
      continue;
    }
    expect(() => {
      throw thrown;
    }).toThrow(message);
    expect(claim()).toBe(WORKER_RUNNING);
    expect(api.backend()).toBe("simd");
    expect(waited).toBeLessThan(20_000); // a guard against the kernel's wait hanging, not a measurement
    if (pool.lost === "worker thread 1 of 2 took its share of a call and did not finish (no progress for 200 ms)") continue; // died between chunks
    expect(pool.lost).toBe("worker thread 1 of 2 took its share of a call and did not finish (no progress for 200 ms inside a kernel)");
    const g = gradient(300, 700);
    const result = api.centralize(g.slice(), [300, 700], { layout: "out-last" });
    expect(maxAbsDiff(result, centralizeReference(g, [300, 700], "out-last"))).toBeLessThan(1e-5);
    return;
  }
});

test("a worker whose thread ends between calls stops the pool when its exit is reported: later calls run on the calling thread at once", async () => {
  const { api, pool, splitJobs } = await threaded();
  pool.minPatienceMs = 60_000; // were the exit missed, the next call would wait a minute
  pool.killWorkerForTests(1);
  await vi.waitFor(() => expect(pool.live).toBe(false), { timeout: 10_000 });
  expect(pool.lost).toMatch(/^worker thread 1 of 2 ended \(exit code \d+\)$/);
  expect(api.backend()).toBe("simd");
  const jobs = splitJobs();
  const g = gradient(512, 1024);
  const out = api.centralize(g.slice(), [512, 1024]);
  expect(splitJobs()).toBe(jobs);
  expect(maxAbsDiff(out, centralizeReference(g, [512, 1024]))).toBeLessThan(1e-5);
});

test("an Adam step whose worker was terminated between calls completes on the calling thread, as one thread computes it", async () => {
  const { api, pool } = await threaded();
  const shape = [256, 512];
  const w0 = gradient(256, 512);
  const g0 = gradient(256, 512).map((x) => x * 0.01);
  const step = (a: Api, kill: boolean) => {
    const w = w0.slice();
    const opt = new a.Adam([{ value: w, grad: g0.slice(), shape }], { lr: 1e-3 });
    if (kill) pool.killWorkerForTests(1);
    opt.step();
    opt.step(); // the pool is stopped: on the calling thread
    return w;
  };
  const threadedResult = step(api, true);
  expect(api.backend()).toBe("simd");
  expect(pool.lost).toMatch(/^worker thread 1 of 2 did not take its share/);
  vi.resetModules();
  const simd: Api = await import("../src/index.js");
  simd.initSync();
  expect(maxAbsDiff(threadedResult, w0)).toBeGreaterThan(1e-4); // the steps moved w
  expect(new Uint32Array(threadedResult.buffer)).toEqual(new Uint32Array(step(simd, false).buffer));
});
