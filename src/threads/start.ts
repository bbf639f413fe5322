// init({ threads }): the threads build over a new shared memory and its worker pool, or
// undefined where this runtime cannot have them (the caller then loads the one-thread build).
import { bundledThreadsKernels } from "../binaries.js";
import type { ThreadsExports } from "./dispatch.js";
import { ThreadPool, threadsAvailable } from "./pool.js";
import { CONTROL_BYTES, JOB_BYTES } from "./worker-source.js";

/**
 * Pages the shared memory may grow to (asconfig.json target "threads", maximumMemory): 2 GiB.
 * A shared memory's maximum is reserved up front by some engines (and 32-bit or mobile browsers
 * refuse a 4 GiB reservation); 2 GiB holds Adam's w, g, m, v for ~130M parameters.
 */
export const THREADS_MAX_PAGES = 32768;
/** Threads `"auto"` uses at most: GC and the optimizer steps are memory-bound, and a few cores saturate a socket's memory bandwidth. */
export const AUTO_THREADS_CAP = 8;

/** The kernels, memory and pool of the threads build. */
export interface ThreadedStart {
  exports: ThreadsExports;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  pool: ThreadPool;
  /** The first byte after the control block: where the allocator starts. */
  heapStart: number;
}

/**
 * The cores `"auto"` asks for: min(8, navigator.hardwareConcurrency, else Node's os.availableParallelism()).
 *
 * @example
 * autoThreads(); // 2 on a 2-core machine, 8 on a 32-core one
 */
export function autoThreads(): number {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number }; process?: { getBuiltinModule?(name: string): unknown } };
  let cores = g.navigator?.hardwareConcurrency;
  if (typeof cores !== "number") {
    const os = g.process?.getBuiltinModule?.("node:os") as { availableParallelism?(): number } | undefined;
    cores = os?.availableParallelism?.() ?? 1;
  }
  return Math.max(1, Math.min(AUTO_THREADS_CAP, Math.floor(cores)));
}

/**
 * Starts the threads build with `threads` threads (≥ 2), or returns undefined (silent fallback).
 *
 * @example
 * const started = await startThreads(2); // undefined in workerd, edge runtimes, non-isolated pages
 */
export async function startThreads(threads: number): Promise<ThreadedStart | undefined> {
  if (threads < 2 || !threadsAvailable()) return undefined;
  // The build is a chunk of its own (src/binaries.ts): a page that does not serve it falls back too.
  const bytes = await bundledThreadsKernels().catch(() => undefined);
  if (bytes === undefined || !WebAssembly.validate(bytes)) return undefined;
  let memory: WebAssembly.Memory;
  let module: WebAssembly.Module;
  let exports: ThreadsExports;
  try {
    memory = new WebAssembly.Memory({ initial: 1, maximum: THREADS_MAX_PAGES, shared: true });
    module = await WebAssembly.compile(bytes);
    const instance = await WebAssembly.instantiate(module, { env: { memory, now: () => performance.now() } });
    exports = instance.exports as unknown as ThreadsExports;
  } catch {
    return undefined;
  }
  const control = Math.ceil(exports.heapBase() / 16) * 16;
  const pool = await ThreadPool.start(module, memory, control, threads);
  if (!pool) return undefined;
  return { exports, module, memory, pool, heapStart: control + CONTROL_BYTES + JOB_BYTES };
}
