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

/**
 * Runs `kernel` with each operand's address in linear memory and a scratch area of
 * `scratchBytes` (16-byte aligned). Staged copies are written back when `writeBack` is true.
 */
export function withOperands(
  rt: Runtime,
  operands: readonly Gradient[],
  scratchBytes: number,
  writeBack: boolean,
  kernel: (ptrs: number[], scratch: number) => void,
): void {
  const { memory } = rt;
  const count = operands.length;
  // Where each operand goes, decided before the staging block may grow memory (which would
  // detach views of it): in place (ptr ≥ 0), or at an offset in the staging block (−1 − offset).
  const ptrs: number[] = new Array(count);
  let stagingBytes = align16(scratchBytes);
  let staged = false;
  for (let i = 0; i < count; i++) {
    const v = operands[i];
    if (v instanceof Tensor || v.buffer === memory.buffer) ptrs[i] = v.byteOffset;
    else {
      ptrs[i] = -1 - stagingBytes;
      stagingBytes += align16(v.length * 4);
      staged = true;
    }
  }
  const scratch = memory.stagingBlock(stagingBytes);
  if (staged) {
    const heap = memory.f32;
    for (let i = 0; i < count; i++) {
      if (ptrs[i] >= 0) continue;
      ptrs[i] = scratch - 1 - ptrs[i];
      heap.set(operands[i] as Float32Array, ptrs[i] >>> 2);
    }
  }
  kernel(ptrs, scratch);
  if (!staged || !writeBack) return;
  const heap = memory.f32;
  for (let i = 0; i < count; i++) {
    const v = operands[i];
    if (v instanceof Tensor || v.buffer === memory.buffer) continue;
    const at = ptrs[i] >>> 2;
    v.set(heap.subarray(at, at + v.length));
  }
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;
