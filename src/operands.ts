// Turns the public API's arguments into operands in linear memory: Tensors and Float32Arrays that
// already view linear memory are used in place; other Float32Arrays are copied into a reused
// staging block and, for in-place operations, copied back.
import { checkFloat32Array, checkShape, checkShapeMatches, kindOf, sizeOf } from "./checks.js";
import { type Runtime, runtime } from "./runtime.js";
import { checkLiveTensor, Tensor } from "./tensor.js";

/** A gradient as the API accepts it: a Tensor, or a Float32Array with its shape. */
export type Gradient = Float32Array | Tensor;

/** A validated gradient argument. */
export interface Operand {
  values: Gradient;
  shape: readonly number[];
}

/**
 * Validates the `(grad, shape, options)` or `(tensor, options)` forms of a call and returns the
 * operand with the options argument.
 */
export function parseGradientArgs(
  caller: string,
  grad: unknown,
  shapeOrOptions: unknown,
  options: unknown,
  name = "grad",
): { operand: Operand; options: unknown } {
  if (grad instanceof Tensor) {
    checkLiveTensor(grad, caller, name);
    if (Array.isArray(shapeOrOptions)) {
      throw new TypeError(`${caller}: ${name} is a Tensor, which carries its shape; pass options as the second argument`);
    }
    if (options !== undefined) throw new TypeError(`${caller}: too many arguments for a Tensor ${name}`);
    return { operand: { values: grad, shape: grad.shape }, options: shapeOrOptions };
  }
  if (!(grad instanceof Float32Array)) {
    throw new TypeError(`${caller}: ${name} must be a Float32Array or a Tensor, got ${kindOf(grad)}`);
  }
  return { operand: float32Operand(caller, grad, shapeOrOptions, name), options };
}

/** Validates a Float32Array gradient against its shape. */
export function float32Operand(caller: string, values: unknown, shape: unknown, name: string): Operand {
  const array = checkFloat32Array(values, caller, name);
  if (shape === undefined) throw new TypeError(`${caller}: the shape of ${name} is required for a Float32Array`);
  const dims = checkShape(shape, caller, name === "grad" ? "shape" : `${name}.shape`);
  checkUsableArray(array, sizeOf(dims), caller, name);
  checkShapeMatches(dims, array.length, caller, name);
  return { values: array, shape: dims };
}

/**
 * Rejects the two ways a Float32Array over linear memory goes bad: detached when memory grew
 * (it then reads as empty), or viewing memory no live block owns (a disposed Tensor's `data`).
 */
export function checkUsableArray(array: Float32Array, expected: number, caller: string, name: string): void {
  const buffer = array.buffer as ArrayBuffer & { detached?: boolean };
  const detached = buffer.detached ?? buffer.byteLength === 0;
  if (detached && array.length === 0 && expected > 0) {
    throw new TypeError(
      `${caller}: ${name} has no values: a view of linear memory detached when memory grew (read tensor.data again, or pass the Tensor), or an empty array`,
    );
  }
  const { memory } = runtime(caller);
  if (buffer === memory.buffer && !memory.owns(array.byteOffset, array.byteLength)) {
    throw new TypeError(`${caller}: ${name} views linear memory that no live Tensor owns (the data of a disposed Tensor?)`);
  }
}

/** What else a `withOperands` call does before it writes anything. */
export interface StagingOptions {
  /** The public function, named in out-of-memory errors. */
  caller?: string;
  /**
   * Allocates the call's other blocks (optimizer state), after every operand's address was
   * recorded and before the staging block is made. It writes nothing the caller can see; when it
   * or the staging block fails, the caller frees what it made.
   */
  allocate?: () => void;
}

/**
 * Runs `kernel` with each operand's address in linear memory and a scratch area of
 * `scratchBytes` (16-byte aligned). Staged copies are written back when `writeBack` is true (or
 * true at the operand's index).
 *
 * Every allocation comes first, every write after: the operands' addresses are recorded, then
 * `options.allocate` and the staging block may grow memory (which detaches every Float32Array
 * view of it, a caller's `tensor.data` included, so views are never read again after this
 * point), then the staged copies are written and the kernel runs. A failed allocation (memory
 * that cannot grow) throws before any byte the caller can see was written.
 */
export function withOperands(
  rt: Runtime,
  operands: readonly Gradient[],
  scratchBytes: number,
  writeBack: boolean | readonly boolean[],
  kernel: (ptrs: number[], scratch: number) => void,
  options: StagingOptions = {},
): void {
  const { memory } = rt;
  const count = operands.length;
  const buffer = memory.buffer;
  // Where each operand goes: in place at its address, or at an offset in the staging block.
  const inPlace: boolean[] = new Array(count);
  const at: number[] = new Array(count);
  const lengths: number[] = new Array(count);
  let stagingBytes = align16(scratchBytes);
  for (let i = 0; i < count; i++) {
    const v = operands[i];
    if (v instanceof Tensor) {
      inPlace[i] = true;
      at[i] = v.byteOffset;
      lengths[i] = v.size;
    } else {
      inPlace[i] = v.buffer === buffer;
      at[i] = inPlace[i] ? v.byteOffset : stagingBytes;
      lengths[i] = v.length;
      if (!inPlace[i]) stagingBytes += align16(v.length * 4);
    }
  }
  options.allocate?.();
  const scratch = memory.stagingBlock(stagingBytes, options.caller);
  // From here on nothing allocates: staged copies in, kernel, staged copies out.
  const ptrs = at.map((a, i) => (inPlace[i] ? a : scratch + a));
  let heap = memory.f32;
  for (let i = 0; i < count; i++) if (!inPlace[i]) heap.set(operands[i] as Float32Array, ptrs[i] >>> 2);
  kernel(ptrs, scratch);
  heap = memory.f32;
  for (let i = 0; i < count; i++) {
    if (inPlace[i] || !(writeBack === true || (Array.isArray(writeBack) && writeBack[i]))) continue;
    const from = ptrs[i] >>> 2;
    (operands[i] as Float32Array).set(heap.subarray(from, from + lengths[i]));
  }
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;
