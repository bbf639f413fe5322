// The package's one instance of the kernels: created by init/initSync, used by everything else.
import { type Backend, type InitOptions, type Kernels, loadKernels, loadKernelsSync, type LoadedKernels } from "./loader.js";
import { LinearMemory } from "./memory.js";
import { splitFrom, threadedKernels } from "./threads/dispatch.js";
import type { ThreadPool } from "./threads/pool.js";
import { THREADS_MAX_PAGES } from "./threads/start.js";

/**
 * The instantiated kernels with the allocator over their memory: one class for every build, so
 * that a call the threads build keeps on the calling thread runs the same JavaScript as on the
 * SIMD build (issue 13: threads on must not slow a small call). Its backend and thread count
 * follow the pool, where there is one. A class, not an object literal with getters: with the
 * literal, every call (each reads `kernels` and `memory`) measured ~4% slower on one [10, 64]
 * centralize (bench/experiments.md).
 */
export class Runtime {
  /** The module's exports: every kernel on the calling thread. */
  readonly kernels: Kernels;
  readonly memory: LinearMemory;
  /** The workers of the threads build (backend "simd-threads"). */
  readonly pool: ThreadPool | undefined;
  /** The kernels that split a call across the pool's threads (the threads build), else `kernels`. */
  readonly splitting: Kernels;
  readonly #backend: Backend;

  constructor(kernels: Kernels, memory: LinearMemory, backend: Backend, pool?: ThreadPool, splitting = kernels) {
    this.kernels = kernels;
    this.memory = memory;
    this.#backend = backend;
    this.pool = pool;
    this.splitting = splitting;
  }

  /** `"simd-threads"` while the pool runs, else the build's own backend. */
  get backend(): Backend {
    return this.pool?.live ? "simd-threads" : this.#backend;
  }

  /** Threads a call may be split across: the pool's while it runs, else 1 (scratch is sized per thread). */
  get threads(): number {
    return this.pool?.live ? this.pool.threads : 1;
  }

  /**
   * The kernels for a call over `values` values: the splitting ones from the split threshold on
   * while the pool runs (they may still keep the call here), the module's own below it.
   */
  kernelsFor(values: number): Kernels {
    return values >= splitFrom() && this.pool?.live ? this.splitting : this.kernels;
  }
}

let current: Runtime | undefined;
let pending: Promise<Backend> | undefined;

/** Makes `loaded` the runtime, unless one exists already (an initSync() that won the race with a pending init()). */
function start({ kernels, backend, threaded }: LoadedKernels): Backend {
  if (current) {
    threaded?.pool.terminate();
    return current.backend;
  }
  if (!threaded) {
    current = new Runtime(kernels, new LinearMemory(kernels.memory, kernels.heapBase()), backend);
    return backend;
  }
  const { pool } = threaded;
  const memory = new LinearMemory(kernels.memory, threaded.heapStart, THREADS_MAX_PAGES);
  current = new Runtime(kernels, memory, "simd", pool, threadedKernels(threaded.exports, pool, memory));
  return current.backend;
}

/**
 * Loads the kernels; call once before anything else. Idempotent: later calls resolve to the
 * first result (their options are ignored), and so does a pending call that an `initSync()`
 * overtook. A failed call may be retried.
 *
 * @example
 * await init();                      // embedded binary, SIMD when the engine validates it
 * await init({ simd: false });       // force the scalar build
 * await init({ source: new URL("https://example.com/gc.simd.wasm") }); // fetched (http, https)
 * await init({ threads: "auto" });   // SIMD on up to 8 threads where workers and shared memory exist
 * @returns the build in use, `"simd"`, `"scalar"` or `"simd-threads"`.
 */
export function init(options: InitOptions = {}): Promise<Backend> {
  if (current) return Promise.resolve(current.backend);
  // Any failure, in loading or in starting (a module without an export the runtime needs),
  // forgets the pending call, so the next init() tries again.
  pending ??= loadKernels(options)
    .then(start)
    .catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
  return pending;
}

/**
 * Synchronous `init`: `options.source` may be omitted, a `WebAssembly.Module` or bytes.
 *
 * @example
 * initSync({ source: wasmModule });  // Cloudflare Workers: the Module imported from the .wasm file
 */
export function initSync(options: InitOptions = {}): Backend {
  if (current) return current.backend;
  return start(loadKernelsSync(options));
}

/**
 * The build in use: `"simd"` (v128 kernels), `"scalar"`, or `"simd-threads"` (`init({ threads })`
 * with its workers running); throws before `init`. After `shutdown()`, or once a call gave up on a
 * worker that died or stopped answering, the threads build runs on the calling thread alone: `"simd"`.
 *
 * @example
 * await init({ threads: 2 });
 * backend(); // "simd-threads" in Node, Deno, Bun, cross-origin isolated pages; "simd" elsewhere
 */
export function backend(): Backend {
  return runtime("backend").backend;
}

/**
 * Stops the worker threads of `init({ threads })` (a no-op without them). The kernels, memory and
 * every Tensor stay as they are; later calls run on the calling thread (same results) and
 * `backend()` says `"simd"`. Workers never keep a Node or Bun process alive, so this is only
 * needed to free them earlier (a page, a long-running server).
 *
 * @example
 * await init({ threads: 4 });
 * // ... training ...
 * shutdown();  // backend() === "simd" from here on
 */
export function shutdown(): void {
  current?.pool?.terminate();
}

/** The live runtime, or a TypeError telling `caller`'s user to call init first. */
export function runtime(caller: string): Runtime {
  if (!current) {
    throw new TypeError(`${caller}: gradient-centralization is not initialized; await init() or call initSync() first`);
  }
  return current;
}
