// Out-last (column units) with two threads: each column tensor's chunks are claimed from its two
// ends (assembly/threads.ts claimEnd), in the block sums, the means and the rows alike, so one
// thread can run the whole job while the other is held back, and a slower thread takes fewer
// chunks. (Before, each thread had a fixed half of the rows: a held-back thread held the other at
// the first wait between segments.) Either way the bits are the one-thread build's.
import { beforeEach, expect, test, vi } from "vitest";
import { centralizeReference, maxAbsDiff } from "./oracle.js";

type Api = typeof import("../src/index.js");
beforeEach(() => vi.resetModules());

/** A gradient whose columns have different means, over [rows, cols]. */
function gradient(rows: number, cols: number): Float32Array {
  return new Float32Array(rows * cols).map((_, i) => Math.sin(i * 0.37) * 3 + (i % cols) % 13 - 4);
}

/** The SIMD build on one thread (another module instance): the bits every thread count must give. */
async function oneThread(run: (api: Api) => Float32Array): Promise<Float32Array> {
  vi.resetModules();
  const simd: Api = await import("../src/index.js");
  simd.initSync();
  return run(simd);
}

test.each([
  ["centralize", [2304, 512]],
  ["centralizeAll", [1024, 256]],
] as const)("%s out-last: the calling thread held back until the worker finished, the worker ran every chunk alone; bit-identical to one thread", async (kind, [rows, cols]) => {
  const api: Api = await import("../src/index.js");
  const { runtime } = await import("../src/runtime.js");
  const { splitJobs, setSplitValues } = await import("../src/threads/dispatch.js");
  const { DONE } = await import("../src/threads/worker-source.js");
  setSplitValues(1 << 16);
  expect(await api.init({ threads: 2 })).toBe("simd-threads");
  const pool = runtime("test").pool!;
  let claim = -1;
  pool.testHooks.afterPublish = (p) => {
    const until = performance.now() + 5_000; // a guard against a hang, not a measurement
    while (p.claimForTests(1) !== DONE && performance.now() < until);
    claim = p.claimForTests(1);
  };
  const g = gradient(rows, cols);
  const others = [gradient(300, 70), gradient(64, 48)]; // centralizeAll: several column tensors in one group
  const jobs = splitJobs();
  const run = (a: Api) =>
    kind === "centralize"
      ? a.centralize(g.slice(), [rows, cols], { layout: "out-last" })
      : a.centralizeAll([{ grad: g.slice(), shape: [rows, cols] }, ...others.map((o, i) => ({ grad: o.slice(), shape: i ? [64, 48] : [300, 70] }))], { layout: "out-last" })[0].grad as Float32Array;
  const out = run(api);
  pool.testHooks.afterPublish = undefined;
  expect(splitJobs()).toBe(jobs + 1);
  expect(claim).toBe(DONE); // the worker finished the job before this thread took any chunk
  expect(api.backend()).toBe("simd-threads");
  expect(maxAbsDiff(out, centralizeReference(g, [rows, cols], "out-last"))).toBeLessThan(1e-5);
  api.shutdown();
  expect(new Uint32Array(out.buffer)).toEqual(new Uint32Array((await oneThread(run)).buffer));
});
