// The splitting kernels of the threads build: the same functions (loader.ts `Kernels`), each call
// split across the pool's threads (assembly/threads.ts `runShare`). Which calls get them is the
// runtime's choice (runtime.ts `kernelsFor`: from the split threshold on, while the pool runs);
// the rest run the module's own exports on the calling thread, as on the SIMD build. Results are
// bit-identical either way: each unit is computed by one thread, in one thread's order.
import type { Kernels, OptimizerKernel, OptimizerKernelName } from "../loader.js";
import type { LinearMemory } from "../memory.js";
import type { ThreadPool } from "./pool.js";
import { JOB_ARGS, JOB_DONE, JOB_ENDS, JOB_FLOAT } from "./worker-source.js";

/** The threads build's own exports. */
export interface ThreadsExports extends Kernels {
  runShare(job: number, thread: number): void;
  clipNormTotal(partials: number, count: number, normType: number): number;
  manySumsBytes(table: number, count: number): number;
  viewSumsBytes(outer: number, units: number, inner: number): number;
  stepSumsBytes(table: number, count: number): number;
}

// Job kinds (assembly/threads.ts JOB_*; the job's layout is in ./worker-source.ts).
const JOB_MANY = 2;
const JOB_STATS = 3;
const JOB_STEP = 4;
const JOB_CLIP_NORM = 5;
const JOB_CLIP_SCALE = 6;
const JOB_CLIP_VALUE = 7;
const JOB_LOOKAHEAD = 8;
/** assembly/optim/sgd.ts CENTER_BUFFER: the step first centers the momentum buffer (run on one thread). */
const CENTER_BUFFER = 128;
const RULES: Record<OptimizerKernelName, number> = {
  sgdStep: 0, adamStep: 1, radamStep: 2, nadamStep: 3, adamaxStep: 4, adagradStep: 5, adadeltaStep: 6, rmspropStep: 7, lionStep: 8,
};

/**
 * Calls over fewer values than this run on the calling thread (runtime.ts `kernelsFor`).
 * Measured on 2 cores (one call, split vs not): a job's round trip (wake the workers, wait for
 * them) costs ~30 µs, so GC of 65,536–131,072 values ran 1.6–5× slower split; from 524,288 values
 * (GC out-first 1.1–1.2×, Adam + GC 1.3–1.4×) splitting paid in every run, at 262,144 it did in some.
 */
export const DEFAULT_SPLIT_VALUES = 1 << 19;
let splitValues = DEFAULT_SPLIT_VALUES;

/**
 * Sets the size from which calls are split (tests set 0 to split every call); returns the previous one.
 *
 * @example
 * const previous = setSplitValues(0); // every call split across the threads
 * setSplitValues(previous);
 */
export function setSplitValues(values: number): number {
  const previous = splitValues;
  splitValues = values;
  return previous;
}

/** The size from which calls may be split (`Runtime.kernelsFor`). */
export function splitFrom(): number {
  return splitValues;
}

let jobsRun = 0;

/**
 * Jobs split across the threads so far (for tests: a split path really ran).
 *
 * @example
 * const before = splitJobs();
 * centralize(big, [512, 4608]);
 * splitJobs() > before; // true with threads
 */
export function splitJobs(): number {
  return jobsRun;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/**
 * `raw`'s kernels, each call split across `pool` while it runs (a view of one unit, a step that
 * first centers its momentum buffers, or one whose sums area cannot be allocated runs on the
 * calling thread). Scratch sizes are per thread: `viewScratchBytes` answers `threads` × the
 * one-thread size (16-aligned); the optimizer kernels take the per-thread size as a 4th argument
 * (`stride`), and without it run on the calling thread.
 *
 * @example
 * const kernels = threadedKernels(exports, pool, memory);
 * kernels.centralizeView(ptr, 1, 512, 4608, scratch); // rows 0–255 here, 256–511 on the worker
 */
export function threadedKernels(raw: ThreadsExports, pool: ThreadPool, memory: LinearMemory): Kernels {
  const job = pool.job;
  const i32 = () => memory.i32;
  const write = (kind: number, args: readonly number[], float = 0) => {
    const words = memory.i32;
    words[job >>> 2] = kind;
    args.forEach((value, k) => { words[((job + JOB_ARGS) >>> 2) + k] = value; });
    words[(job + JOB_DONE) >>> 2] = 0;
    memory.f64[(job + JOB_FLOAT) >>> 3] = float; // (table jobs: their sleepers count, 0)
    memory.f64[(job + JOB_ENDS) >>> 3] = 0; // no item claimed yet (assembly/threads.ts claimEnd)
  };
  /** 1 when this (the calling) thread may block in Atomics.wait: the table jobs' waits sleep rather than spin. */
  const blocks = () => (pool.mayBlock ? 1 : 0);
  /** Runs a job across the pool. */
  const runJob = (kind: number, args: readonly number[], float = 0) => {
    write(kind, args, float);
    jobsRun++;
    pool.run((thread) => raw.runShare(job, thread));
  };
  const threads = () => (pool.live ? pool.threads : 1);
  // Column units (out-last) need their column sums and means (assembly/threads.ts: segments of
  // one job) in a sums area allocated for the call; where memory cannot grow for it, the call
  // runs on this thread.
  /** Runs `splitRun(at)` with `bytes` allocated at `at` (none: at = 0), or `single()` when they cannot be. */
  const withSums = (bytes: number, single: () => void, splitRun: (at: number) => void) => {
    if (bytes === 0) return splitRun(0);
    let at: number;
    try {
      at = memory.alloc(bytes, "threads");
    } catch {
      return single();
    }
    try {
      splitRun(at);
    } finally {
      memory.release(at);
    }
  };
  const viewStride = (outer: number, units: number, inner: number) => align16(raw.viewScratchBytes(outer, units, inner));
  // The exports object is frozen: the split functions shadow them on an object inheriting from it.
  const own: Record<string, unknown> = { memory: raw.memory };
  own.viewScratchBytes = (outer: number, units: number, inner: number) =>
    pool.live ? viewStride(outer, units, inner) * threads() : raw.viewScratchBytes(outer, units, inner);
  own.centralizeView = (ptr: number, outer: number, units: number, inner: number, scratch: number) => {
    if (!pool.live || (inner === 1 ? outer : units) < 2) return raw.centralizeView(ptr, outer, units, inner, scratch);
    const single = () => raw.centralizeView(ptr, outer, units, inner, scratch);
    // a centralizeMany of one tensor: its table (16 bytes) before its sums
    const bytes = raw.viewSumsBytes(outer, units, inner);
    withSums(16 + bytes, single, (table) => {
      i32().set([ptr, outer, units, inner], table >>> 2);
      runJob(JOB_MANY, [table, 1, scratch, viewStride(outer, units, inner), table + 16, 0, blocks()]);
    });
  };
  own.centralizeMany = (table: number, count: number, scratch: number) => {
    if (!pool.live) return raw.centralizeMany(table, count, scratch);
    const single = () => raw.centralizeMany(table, count, scratch);
    const words = i32();
    let stride = 0;
    for (let k = 0; k < count; k++) {
      const at = (table >>> 2) + 4 * k;
      stride = Math.max(stride, viewStride(words[at + 1], words[at + 2], words[at + 3]));
    }
    const bytes = raw.manySumsBytes(table, count);
    withSums(bytes, single, (at) => runJob(JOB_MANY, [table, count, scratch, stride, at, 0, blocks()]));
  };
  own.unitStats = (ptr: number, outer: number, units: number, inner: number, u0: number, n: number, out: number) => {
    if (!pool.live || n < 2) return raw.unitStats(ptr, outer, units, inner, u0, n, out);
    runJob(JOB_STATS, [ptr, outer, units, inner, u0, n, out]);
  };
  for (const name of Object.keys(RULES) as OptimizerKernelName[]) {
    const rule = RULES[name];
    const step: OptimizerKernel = (table, count, scratch, stride?: number) => {
      if (stride === undefined || !pool.live) return raw[name](table, count, scratch);
      const single = () => raw[name](table, count, scratch);
      const words = i32();
      for (let k = 0; k < count; k++) if (words[(table + 96 * k + 28) >>> 2] & CENTER_BUFFER) return single();
      const bytes = raw.stepSumsBytes(table, count);
      withSums(bytes, single, (at) => runJob(JOB_STEP, [table, count, scratch, stride, at, rule, blocks()]));
    };
    own[name] = step;
  }
  own.clipGradNorm = (table: number, count: number, normType: number, maxNorm: number) => {
    if (!pool.live) return raw.clipGradNorm(table, count, normType, maxNorm);
    const partials = memory.alloc(count * 8, "clipGradNorm");
    let total: number;
    try {
      runJob(JOB_CLIP_NORM, [table, count, normType, partials]);
      total = raw.clipNormTotal(partials, count, normType);
    } finally {
      memory.release(partials);
    }
    const coef = maxNorm / (total + 1e-6);
    if (coef >= 1) return total;
    runJob(JOB_CLIP_SCALE, [table, count], Math.fround(coef));
    return total;
  };
  own.clipGradValue = (table: number, count: number, c: number) => {
    if (!pool.live) return raw.clipGradValue(table, count, c);
    runJob(JOB_CLIP_VALUE, [table, count], Math.fround(c));
  };
  own.lookaheadSync = (table: number, count: number, alpha: number) => {
    if (!pool.live) return raw.lookaheadSync(table, count, alpha);
    runJob(JOB_LOOKAHEAD, [table, count], Math.fround(alpha));
  };
  const kernels = Object.create(raw) as Kernels;
  for (const [name, value] of Object.entries(own)) Object.defineProperty(kernels, name, { value, enumerable: true });
  return kernels;
}
