// The package's one instance of the kernels: created by init/initSync, used by everything else.
import { type Backend, type InitOptions, type Kernels, loadKernels, loadKernelsSync, type LoadedKernels } from "./loader.js";
import { LinearMemory } from "./memory.js";

/** The instantiated kernels with the allocator over their memory. */
export interface Runtime {
  readonly kernels: Kernels;
  readonly memory: LinearMemory;
  readonly backend: Backend;
}

let current: Runtime | undefined;
let pending: Promise<Backend> | undefined;

/** Makes `loaded` the runtime, unless one exists already (an initSync() that won the race with a pending init()). */
function start({ kernels, backend }: LoadedKernels): Backend {
  current ??= { kernels, backend, memory: new LinearMemory(kernels.memory, kernels.heapBase()) };
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
 * @returns the build in use, `"simd"` or `"scalar"`.
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

/** The build in use: `"simd"` (v128 kernels) or `"scalar"`; throws before `init`. */
export function backend(): Backend {
  return runtime("backend").backend;
}

/** The live runtime, or a TypeError telling `caller`'s user to call init first. */
export function runtime(caller: string): Runtime {
  if (!current) {
    throw new TypeError(`${caller}: gradient-centralization is not initialized; await init() or call initSync() first`);
  }
  return current;
}
