// The one file that instantiates the wasm module (through @assemblyscript/loader).
import { instantiate, instantiateSync } from "@assemblyscript/loader";
import { readOptions } from "./args.js";
import { bundledKernels } from "./binaries.js";
import { autoThreads, startThreads, type ThreadedStart } from "./threads/start.js";
import { MAX_THREADS } from "./threads/worker-source.js";

/**
 * Which build of the kernels runs: v128 SIMD, the scalar build of the same source, or the SIMD
 * build on several threads over shared memory (`init({ threads })`).
 */
export type Backend = "simd" | "scalar" | "simd-threads";

/** Where the kernels come from: a compiled module, the bytes of a `.wasm`, a fetch `Response` or its URL. */
export type WasmSource = WebAssembly.Module | BufferSource | Response | URL | string;

/** Options of `init` and `initSync`. */
export interface InitOptions {
  /** A `.wasm` of this package (`gc.simd.wasm` or `gc.scalar.wasm`); omitted: the embedded binaries. */
  source?: WasmSource;
  /** `false` forces the scalar build; by default SIMD is used when `WebAssembly.validate` accepts it. */
  simd?: boolean;
  /**
   * Threads the kernels may use (`init` only): an integer ≥ 2, or `"auto"` (the cores, at most 8).
   * Where shared memory and workers exist (Node, Deno, Bun, cross-origin isolated pages) the SIMD
   * + threads build runs large calls on that many threads, bit-identical to one thread; elsewhere
   * (or with `source` or `simd: false`) one thread runs them, silently: `backend()` says which.
   */
  threads?: number | "auto";
}

/** The raw kernel exports: pointers, lengths and scalars only. */
export interface Kernels {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  isSimdBuild(): number;
  centralizeRows(ptr: number, rows: number, cols: number): void;
  centralizeColumns(ptr: number, rows: number, cols: number, scratch: number): void;
  centralizeMany(table: number, count: number, scratch: number): void;
  columnScratchBytes(cols: number): number;
  centralizeView(ptr: number, outer: number, units: number, inner: number, scratch: number): void;
  /**
   * Scratch bytes of `centralizeView` on an [outer, units, inner] view, or of one view of a
   * `centralizeMany` (the threads build's splitting kernels: one scratch per thread).
   */
  viewScratchBytes(outer: number, units: number, inner: number): number;
  unitStats(ptr: number, outer: number, units: number, inner: number, u0: number, n: number, out: number): void;
  sgdStep: OptimizerKernel;
  adamStep: OptimizerKernel;
  radamStep: OptimizerKernel;
  nadamStep: OptimizerKernel;
  adamaxStep: OptimizerKernel;
  adagradStep: OptimizerKernel;
  adadeltaStep: OptimizerKernel;
  rmspropStep: OptimizerKernel;
  lionStep: OptimizerKernel;
  clipGradNorm(table: number, count: number, normType: number, maxNorm: number): number;
  clipGradValue(table: number, count: number, clipValue: number): void;
  lookaheadSync(table: number, count: number, alpha: number): void;
}

/** A fused optimizer step over `count` descriptor-table entries at `table` (assembly/optim/gc.ts). */
export type OptimizerKernel = (table: number, count: number, scratch: number, stride?: number) => void;

/** The names of the optimizer kernels, one per rule. */
export type OptimizerKernelName = "sgdStep" | "adamStep" | "radamStep" | "nadamStep" | "adamaxStep" | "adagradStep" | "adadeltaStep" | "rmspropStep" | "lionStep";

/** Instantiated kernels and the build they came from. */
export interface LoadedKernels {
  kernels: Kernels;
  backend: Backend;
  /** The threads build, its memory and its started workers (`backend` "simd-threads"). */
  threaded?: ThreadedStart;
}

const OPTION_NAMES = ["source", "simd", "threads"];

/** Reads the options once (own properties only: see args.ts) and checks `simd`. */
function checkInitOptions(options: InitOptions, caller: string): InitOptions {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${caller}: options must be an object, got ${options === null ? "null" : typeof options}`);
  }
  const record = readOptions(options, OPTION_NAMES, caller) as InitOptions;
  if (record.simd !== undefined && typeof record.simd !== "boolean") {
    throw new TypeError(`${caller}: options.simd must be a boolean, got ${typeof record.simd}`);
  }
  const threads = record.threads;
  if (threads !== undefined && threads !== "auto") {
    if (typeof threads !== "number") throw new TypeError(`${caller}: options.threads must be an integer ≥ 2 or "auto", got ${typeof threads}`);
    if (!Number.isInteger(threads) || threads < 2 || threads > MAX_THREADS) {
      throw new RangeError(`${caller}: options.threads must be an integer from 2 to ${MAX_THREADS} or "auto", got ${threads}`);
    }
  }
  if (threads !== undefined && caller === "initSync") {
    throw new TypeError("initSync: options.threads needs init() (worker threads start asynchronously)");
  }
  return record;
}

/** True when bytes start (after blanks) with "<": an HTML or XML page where a .wasm was expected. */
function looksLikeMarkup(source: unknown): boolean {
  if (!(source instanceof ArrayBuffer) && !ArrayBuffer.isView(source)) return false;
  const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  for (const byte of bytes.subarray(0, 512)) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0xef || byte === 0xbb || byte === 0xbf) continue;
    return byte === 0x3c;
  }
  return false;
}

/** A compile or link failure of `options.source` as a TypeError naming it (the engine's error as its cause). */
function sourceError(error: unknown, source: unknown, caller: string): unknown {
  if (!(error instanceof WebAssembly.CompileError) && !(error instanceof WebAssembly.LinkError)) return error;
  const hint = looksLikeMarkup(source) ? "; the bytes look like an HTML page (a wrong URL, or a server's error page?)" : "";
  return new TypeError(`${caller}: options.source is not a valid gradient-centralization .wasm (${(error as Error).message})${hint}`, { cause: error });
}

/**
 * The bundled kernels to use: SIMD unless forced off or refused by this engine. A bundled
 * `WebAssembly.Module` (workerd, edge-light entries) was already compiled, so it is SIMD-capable.
 */
function embeddedFor(simd: boolean | undefined): Uint8Array<ArrayBuffer> | WebAssembly.Module {
  if (simd !== false) {
    const kernels = bundledKernels("simd");
    if (kernels instanceof WebAssembly.Module || WebAssembly.validate(kernels)) return kernels;
  }
  return bundledKernels("scalar");
}

function isBytes(source: unknown): source is BufferSource {
  return source instanceof ArrayBuffer || ArrayBuffer.isView(source);
}

function describe(source: unknown): string {
  if (source === null) return "null";
  if (typeof source === "object") return (source as object).constructor?.name ?? "object";
  return typeof source;
}

async function fetchBinary(url: URL | string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    // Node's fetch cannot read file: URLs (Deno's and Bun's can).
    const hint = String(url).startsWith("file:") ? "; where fetch cannot read files (Node), pass the bytes: await readFile(url)" : "";
    throw new TypeError(`init: options.source ${String(url)} could not be fetched (${(error as Error).message})${hint}`, { cause: error });
  }
  if (!response.ok) throw new TypeError(`init: options.source ${String(url)} answered HTTP ${response.status}`);
  return response;
}

/** A Response whose Content-Type is not application/wasm cannot be streamed: fall back to its bytes. */
async function responseSource(response: Response): Promise<Response | ArrayBuffer> {
  if (!response.ok) {
    const where = response.url ? ` from ${response.url}` : "";
    throw new TypeError(`init: options.source is a Response with HTTP status ${response.status}${where}, not a .wasm`);
  }
  const type = response.headers.get("content-type") ?? "";
  return type.startsWith("application/wasm") ? response : response.arrayBuffer();
}

/** Every function of `Kernels` (the type checker insists on all): a module lacking one is refused before anything uses it. */
const KERNEL_FUNCTIONS = Object.keys({
  heapBase: true,
  isSimdBuild: true,
  centralizeRows: true,
  centralizeColumns: true,
  centralizeMany: true,
  columnScratchBytes: true,
  unitStats: true,
  sgdStep: true,
  adamStep: true,
  radamStep: true,
  nadamStep: true,
  adamaxStep: true,
  adagradStep: true,
  adadeltaStep: true,
  rmspropStep: true,
  lionStep: true,
  clipGradNorm: true,
  clipGradValue: true,
  lookaheadSync: true,
  centralizeView: true,
  viewScratchBytes: true,
} satisfies Record<Exclude<keyof Kernels, "memory">, true>) as Exclude<keyof Kernels, "memory">[];

function finish(exports: WebAssembly.Exports, simd: boolean | undefined, caller: string): LoadedKernels {
  const kernels = exports as unknown as Kernels;
  const missing: string[] = KERNEL_FUNCTIONS.filter((name) => typeof kernels[name] !== "function");
  if (!(kernels.memory instanceof WebAssembly.Memory)) missing.unshift("memory");
  if (missing.length > 0) {
    throw new TypeError(
      `${caller}: options.source is not a gradient-centralization kernel module of this version (it lacks the export${missing.length > 1 ? "s" : ""} ${missing.join(", ")})`,
    );
  }
  const backend: Backend = typeof (kernels as { isThreadsBuild?: unknown }).isThreadsBuild === "function" ? "simd-threads" : kernels.isSimdBuild() ? "simd" : "scalar";
  if (simd === false && backend === "simd") {
    throw new RangeError(`${caller}: options.simd is false but options.source is the SIMD build`);
  }
  return { kernels, backend };
}

/** Compiles and instantiates the kernels, from `options.source` or the embedded binaries. */
export async function loadKernels(given: InitOptions): Promise<LoadedKernels> {
  const options = checkInitOptions(given, "init");
  if (options.threads !== undefined && options.source === undefined && options.simd !== false) {
    const threaded = await startThreads(options.threads === "auto" ? autoThreads() : options.threads);
    if (threaded) {
      const kernels = Object.create(threaded.exports, { memory: { value: threaded.memory } }) as Kernels;
      return { ...finish(kernels as unknown as WebAssembly.Exports, options.simd, "init"), threaded };
    }
  }
  let source: WasmSource = options.source ?? embeddedFor(options.simd);
  if (typeof source === "string" || source instanceof URL) source = await fetchBinary(source);
  if (typeof Response !== "undefined" && source instanceof Response) source = await responseSource(source);
  else if (!(source instanceof WebAssembly.Module) && !isBytes(source)) {
    throw new TypeError(
      `init: options.source must be a WebAssembly.Module, bytes, a Response or a URL, got ${describe(source)}`,
    );
  }
  // The module has no imports; the loader only adds its optional env helpers.
  let instance: WebAssembly.Instance;
  try {
    ({ instance } = await instantiate(source as WebAssembly.Module | BufferSource | Response, {}));
  } catch (error) {
    throw sourceError(error, source, "init");
  }
  return finish(instance.exports, options.simd, "init");
}

/** The synchronous form of `loadKernels`: `options.source` must be a Module or bytes. */
export function loadKernelsSync(given: InitOptions): LoadedKernels {
  const options = checkInitOptions(given, "initSync");
  const source = options.source ?? embeddedFor(options.simd);
  if (!(source instanceof WebAssembly.Module) && !isBytes(source)) {
    throw new TypeError(
      `initSync: options.source must be a WebAssembly.Module or bytes (use init() for a Response or URL), got ${describe(source)}`,
    );
  }
  let instance: WebAssembly.Instance;
  try {
    ({ instance } = instantiateSync(source, {}));
  } catch (error) {
    throw sourceError(error, source, "initSync");
  }
  return finish(instance.exports, options.simd, "initSync");
}
