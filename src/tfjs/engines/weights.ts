// Moving values between TF.js tensors and linear memory, the cheapest correct way per backend.
// Measured on 1M floats (a loaded 2-core machine): on the cpu backend, assign of a new tensor
// holding a copy 7.2 ms, replacing the backend's array by a copy 0.63 ms; on the wasm backend,
// assign of a new tensor 0.45–2 ms (its write copies into its heap), and dataSync of a gradient
// 70 ms against 0.27 ms reading the wasm heap directly. Writing the wasm heap in place (0.46 ms)
// is wrong: its XNNPACK operators keep packed copies of weights by tensor, so a variable's new
// values need a new dataId there.
import { backend as tfBackend, getBackend, tensor as tfTensor, type Tensor, type Variable } from "@tensorflow/tfjs-core";

/** The cpu backend's storage entry of a tensor's data. */
interface CpuData {
  values?: unknown;
  dtype: string;
  refCount: number;
}

/** The wasm backend's record of a tensor's data (in its own heap). */
interface WasmData {
  memoryOffset: number | null;
  dtype: string;
  refCount: number;
}

/** Where the current backend keeps `dataId`'s float32 values, when it is the cpu or wasm backend and holds them. */
type Storage =
  | { kind: "cpu"; entry: CpuData & { values: Float32Array } }
  | { kind: "wasm"; entry: WasmData; view: Float32Array }
  | undefined;


function storageOf(dataId: object, size: number): Storage {
  const name = getBackend();
  if (name === "cpu") {
    const data = (tfBackend() as unknown as { data?: { has(id: object): boolean; get(id: object): CpuData } }).data;
    if (data === undefined || !data.has(dataId)) return undefined;
    const entry = data.get(dataId);
    if (entry.dtype !== "float32" || !(entry.values instanceof Float32Array) || entry.values.length !== size) return undefined;
    return { kind: "cpu", entry: entry as CpuData & { values: Float32Array } };
  }
  if (name === "wasm") {
    const backend = tfBackend() as unknown as { dataIdMap?: { has(id: object): boolean; get(id: object): WasmData }; wasm?: { HEAPU8: Uint8Array } };
    if (backend.dataIdMap === undefined || backend.wasm === undefined || !backend.dataIdMap.has(dataId)) return undefined;
    const entry = backend.dataIdMap.get(dataId);
    if (entry.dtype !== "float32" || entry.memoryOffset === null) return undefined;
    return { kind: "wasm", entry, view: new Float32Array(backend.wasm.HEAPU8.buffer, entry.memoryOffset, size) };
  }
  return undefined;
}

/**
 * Copies `source`'s values into `target` (a view of linear memory of the same size), without a
 * download where the backend lets it be read.
 *
 * @example
 * readWeights(gradient, slot.grad.data); // the gradient, once, into linear memory
 */
export function readWeights(source: Tensor, target: Float32Array): void {
  const storage = storageOf(source.dataId, target.length);
  if (storage === undefined) target.set(source.dataSync() as Float32Array);
  else target.set(storage.kind === "cpu" ? storage.entry.values : storage.view);
}

/**
 * Makes `values` the variable's value. On the cpu backend, where no other tensor shares the
 * variable's data (refCount 1), its array is replaced by a copy (arrays handed out by earlier
 * `dataSync()` calls keep the old values). Elsewhere `variable.assign` of a new tensor: made
 * from `values` itself on the wasm backend (which copies into its heap), from a copy on the
 * others (the cpu backend keeps the array it is given: a view of linear memory must not reach it).
 * Returns the variable's dataId afterwards.
 *
 * @example
 * slot.dataId = writeWeights(variable, slot.value.data); // the master copy → the variable
 */
export function writeWeights(variable: Variable, values: Float32Array): object {
  const storage = storageOf(variable.dataId, values.length);
  if (storage?.kind === "cpu" && storage.entry.refCount === 1) {
    storage.entry.values = values.slice();
    return variable.dataId;
  }
  const next = tfTensor(getBackend() === "wasm" ? values : values.slice(), variable.shape, "float32");
  variable.assign(next);
  next.dispose();
  return variable.dataId;
}
