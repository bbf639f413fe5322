// The one file that instantiates the wasm module (through @assemblyscript/loader).
import { instantiate, instantiateSync } from "@assemblyscript/loader";
import { bundledKernels } from "./binaries.js";

/** Which build of the kernels runs: v128 SIMD or the scalar build of the same source. */
export type Backend = "simd" | "scalar";

/** Where the kernels come from: a compiled module, the bytes of a `.wasm`, a fetch `Response` or its URL. */
export type WasmSource = WebAssembly.Module | BufferSource | Response | URL | string;

/** Options of `init` and `initSync`. */
export interface InitOptions {
  /** A `.wasm` of this package (`gc.simd.wasm` or `gc.scalar.wasm`); omitted: the embedded binaries. */
  source?: WasmSource;
  /** `false` forces the scalar build; by default SIMD is used when `WebAssembly.validate` accepts it. */
  simd?: boolean;
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
  unitStats(ptr: number, units: number, count: number, unitStride: number, elemStride: number, out: number): void;
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
export type OptimizerKernel = (table: number, count: number, scratch: number) => void;

/** The names of the optimizer kernels, one per rule. */
export type OptimizerKernelName = "sgdStep" | "adamStep" | "radamStep" | "nadamStep" | "adamaxStep" | "adagradStep" | "adadeltaStep" | "rmspropStep" | "lionStep";

/** Instantiated kernels and the build they came from. */
export interface LoadedKernels {
  kernels: Kernels;
  backend: Backend;
}

const OPTION_NAMES = ["source", "simd"];

function checkInitOptions(options: InitOptions, caller: string): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${caller}: options must be an object, got ${options === null ? "null" : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) {
      throw new TypeError(`${caller}: options.${key} is not an option (known: ${OPTION_NAMES.join(", ")})`);
    }
  }
  if (options.simd !== undefined && typeof options.simd !== "boolean") {
    throw new TypeError(`${caller}: options.simd must be a boolean, got ${typeof options.simd}`);
  }
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
  if (!response.ok) throw new Error(`init: options.source ${String(url)} answered HTTP ${response.status}`);
  return response;
}

/** A Response whose Content-Type is not application/wasm cannot be streamed: fall back to its bytes. */
async function responseSource(response: Response): Promise<Response | ArrayBuffer> {
  const type = response.headers.get("content-type") ?? "";
  return type.startsWith("application/wasm") ? response : response.arrayBuffer();
}

function finish(exports: WebAssembly.Exports, simd: boolean | undefined, caller: string): LoadedKernels {
  const kernels = exports as unknown as Kernels;
  if (typeof kernels.centralizeRows !== "function" || typeof kernels.isSimdBuild !== "function") {
    throw new TypeError(`${caller}: options.source is not a gradient-centralization kernel module`);
  }
  const backend: Backend = kernels.isSimdBuild() ? "simd" : "scalar";
  if (simd === false && backend === "simd") {
    throw new RangeError(`${caller}: options.simd is false but options.source is the SIMD build`);
  }
  return { kernels, backend };
}

/** Compiles and instantiates the kernels, from `options.source` or the embedded binaries. */
export async function loadKernels(options: InitOptions): Promise<LoadedKernels> {
  checkInitOptions(options, "init");
  let source: WasmSource = options.source ?? embeddedFor(options.simd);
  if (typeof source === "string" || source instanceof URL) source = await fetchBinary(source);
  if (typeof Response !== "undefined" && source instanceof Response) source = await responseSource(source);
  else if (!(source instanceof WebAssembly.Module) && !isBytes(source)) {
    throw new TypeError(
      `init: options.source must be a WebAssembly.Module, bytes, a Response or a URL, got ${describe(source)}`,
    );
  }
  // The module has no imports; the loader only adds its optional env helpers.
  const { instance } = await instantiate(source as WebAssembly.Module | BufferSource | Response, {});
  return finish(instance.exports, options.simd, "init");
}

/** The synchronous form of `loadKernels`: `options.source` must be a Module or bytes. */
export function loadKernelsSync(options: InitOptions): LoadedKernels {
  checkInitOptions(options, "initSync");
  const source = options.source ?? embeddedFor(options.simd);
  if (!(source instanceof WebAssembly.Module) && !isBytes(source)) {
    throw new TypeError(
      `initSync: options.source must be a WebAssembly.Module or bytes (use init() for a Response or URL), got ${describe(source)}`,
    );
  }
  const { instance } = instantiateSync(source, {});
  return finish(instance.exports, options.simd, "initSync");
}
