// Turns the public API's arguments into operands in linear memory: Tensors and Float32Arrays that
// already view linear memory are used in place; other Float32Arrays are copied into a reused
// staging block and, for in-place operations, copied back.
//
// Every public function works in two phases. Reading (`readGradient`, `readOptions`, …) takes
// what the caller gave into locals; the caller's code (getters, Proxy traps) can only run then.
// Checking (`checkGradient`, …) validates those locals against the state of memory after all
// caller code ran, and yields `Operand`s: addresses and extents the kernels use, never the
// caller's objects again (`Operand.array` is only written through the built-in `set`).
import { copyInto, describe, float32Extent, type Float32Extent, fixedView, isArrayValue, isDetached, readShape, typedArrayKind } from "./args.js";
import { checkShapeMatches, sizeOf } from "./checks.js";
import type { LinearMemory } from "./memory.js";
import { type Runtime, runtime } from "./runtime.js";
import { checkLiveTensor, insideLiveTensor, isStaleView, isTensor, type Tensor } from "./tensor.js";

/** A gradient as the API accepts it: a Tensor, or a Float32Array with its shape. */
export type Gradient = Float32Array | Tensor;

/** A gradient argument as read from the caller (before any check of memory). */
export type GradientInput =
  | { kind: "tensor"; tensor: Tensor; name: string }
  | { kind: "array"; array: Float32Array; shape: readonly number[]; name: string };

/** A checked operand: where its `length` float32 values are, and its shape. */
export interface Operand {
  shape: readonly number[];
  length: number;
  /** Address in linear memory when the values are used in place, else -1 (staged: copied in and out). */
  ptr: number;
  /** For a staged operand: a fixed-length view of exactly the checked values of the caller's Float32Array. */
  array?: Float32Array;
  /** True for a live Tensor's block (blocks of different tensors never overlap). */
  tensor: boolean;
  /** [start, end) bytes of the values in their buffer, and that buffer, to find operands that share memory. */
  buffer: ArrayBufferLike | LinearMemory;
  start: number;
  end: number;
}

/**
 * Reads a gradient argument: a Tensor (recognised by its private brand), or a genuine Float32Array
 * with a shape (copied once). Anything else, a Proxy or an object posing as a Tensor included, is a
 * TypeError naming `name`.
 */
export function readGradient(caller: string, grad: unknown, shape: unknown, name: string, shapeName: string): GradientInput {
  if (isTensor(grad)) return { kind: "tensor", tensor: grad, name };
  if (typedArrayKind(grad) !== "Float32Array") {
    throw new TypeError(`${caller}: ${name} must be a Float32Array or a Tensor, got ${describe(grad)}`);
  }
  if (shape === undefined) throw new TypeError(`${caller}: the shape of ${name} is required for a Float32Array`);
  return { kind: "array", array: grad as Float32Array, shape: readShape(shape, caller, shapeName), name };
}

/**
 * Reads the `(grad, shape, options)` or `(tensor, options)` forms of a call: the gradient and the
 * options argument (not read yet: the caller reads it next, before checking the gradient).
 */
export function readGradientArgs(
  caller: string,
  grad: unknown,
  shapeOrOptions: unknown,
  options: unknown,
): { input: GradientInput; options: unknown } {
  if (isTensor(grad)) {
    if (isArrayValue(shapeOrOptions)) {
      throw new TypeError(`${caller}: grad is a Tensor, which carries its shape; pass options as the second argument`);
    }
    if (options !== undefined) throw new TypeError(`${caller}: too many arguments for a Tensor grad`);
    return { input: { kind: "tensor", tensor: grad, name: "grad" }, options: shapeOrOptions };
  }
  return { input: readGradient(caller, grad, shapeOrOptions, "grad", "shape"), options };
}

/**
 * Checks a gradient read by `readGradient` against memory as it is now: a live Tensor, or a
 * Float32Array whose shape matches its length (read with the built-in getters), not detached, and
 * when it views linear memory, inside one live block. `expected` (optimizers) is the shape it must have.
 */
export function checkGradient(rt: Runtime, caller: string, input: GradientInput, expected?: readonly number[]): Operand {
  if (input.kind === "tensor") {
    const { ptr, size, shape } = checkLiveTensor(input.tensor, caller, input.name);
    if (expected !== undefined && !sameShape(shape, expected)) {
      throw new RangeError(`${caller}: ${input.name} has shape [${shape.join(", ")}], expected [${expected.join(", ")}]`);
    }
    return { shape, length: size, ptr, tensor: true, buffer: rt.memory, start: ptr, end: ptr + size * 4 };
  }
  const extent = float32Extent(input.array)!;
  const shape = expected ?? input.shape;
  const size = sizeOf(shape);
  checkUsableArray(rt, extent, size, caller, input.name);
  if (expected !== undefined) {
    if (extent.length !== size) {
      throw new RangeError(`${caller}: ${input.name} has ${extent.length} values, expected ${size} (shape [${shape.join(", ")}])`);
    }
  } else checkShapeMatches(shape, extent.length, caller, input.name);
  const start = extent.byteOffset;
  const end = start + extent.length * 4;
  if (rt.memory.isOwnBuffer(extent.buffer)) return { shape, length: extent.length, ptr: start, tensor: false, buffer: rt.memory, start, end };
  // A fixed-length view of exactly the checked values: a length-tracking array over a growable
  // SharedArrayBuffer (which another thread may grow) cannot copy more than was checked.
  return { shape, length: extent.length, ptr: -1, tensor: false, array: fixedView(extent), buffer: extent.buffer, start, end };
}

/**
 * Rejects the ways a Float32Array over linear memory goes bad: detached when memory grew (it then
 * reads as empty), or viewing memory no live block owns (a disposed Tensor's `data`).
 */
function checkUsableArray(rt: Runtime, extent: Float32Extent, expected: number, caller: string, name: string): void {
  if (extent.length === 0 && expected > 0 && isDetached(extent.buffer)) {
    throw new TypeError(
      `${caller}: ${name} has no values: a view of linear memory detached when memory grew (read tensor.data again, or pass the Tensor), or an empty array`,
    );
  }
  const { memory } = rt;
  if (isStaleView(extent.array)) {
    throw new TypeError(`${caller}: ${name} is the data of a disposed Tensor (its block may hold another tensor now): read tensor.data of a live tensor`);
  }
  if (memory.isOwnBuffer(extent.buffer) && !insideLiveTensor(extent.byteOffset, extent.byteOffset + extent.length * 4)) {
    throw new TypeError(`${caller}: ${name} views linear memory that no live Tensor owns (the data of a disposed Tensor?)`);
  }
}

/**
 * A TypeError when an operand the kernel writes (`written(i)`) shares memory with any other
 * operand: the kernel would read values it has already overwritten. `name(i)` names operand i
 * (only called for the message).
 */
export function checkDisjoint(
  caller: string,
  operands: readonly Operand[],
  name: (i: number) => string,
  written: (i: number) => boolean,
): void {
  const overlap = (a: number, b: number) => new TypeError(`${caller}: ${name(Math.max(a, b))} shares memory with ${name(Math.min(a, b))}`);
  // Live tensors never overlap each other: among them only the same block twice can. Views and
  // arrays need the interval test.
  const tensorAt = new Map<number, number>(); // block → an operand over it, a written one if any
  let intervals = false;
  for (let i = 0; i < operands.length; i++) {
    const op = operands[i];
    if (op.end <= op.start) continue;
    if (!op.tensor) {
      intervals = true;
      continue;
    }
    const j = tensorAt.get(op.start);
    if (j === undefined) tensorAt.set(op.start, i);
    else if (written(i) || written(j)) throw overlap(i, j);
  }
  if (!intervals) return;
  const order: number[] = [];
  for (let i = 0; i < operands.length; i++) if (operands[i].end > operands[i].start) order.push(i);
  order.sort((a, b) => operands[a].start - operands[b].start || operands[a].end - operands[b].end);
  const reach = new Map<unknown, number>(); // per buffer: the operand reaching furthest so far
  for (const i of order) {
    const op = operands[i];
    const r = reach.get(op.buffer);
    if (r !== undefined && op.start < operands[r].end && (written(i) || written(r))) throw overlap(i, r);
    if (r === undefined || op.end > operands[r].end) reach.set(op.buffer, i);
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
 * `scratchBytes` (16-byte aligned). Staged copies are written back when `writeBack` is true
 * (or for the operands `writeBack` lists). No caller code runs in here.
 *
 * Every allocation comes first, every write after: operands carry the addresses recorded when
 * they were checked, then `options.allocate` and the staging block may grow memory (which
 * detaches every Float32Array view of it, a caller's `tensor.data` included), then the staged
 * copies are written and the kernel runs. A failed allocation (memory that cannot grow) throws
 * before any byte the caller can see was written.
 */
export function withOperands(
  rt: Runtime,
  operands: readonly Operand[],
  scratchBytes: number,
  writeBack: boolean | readonly boolean[],
  kernel: (ptrs: number[], scratch: number) => void,
  options: StagingOptions = {},
): void {
  const { memory } = rt;
  const count = operands.length;
  // Where each operand goes: in place (ptr ≥ 0), or at an offset in the staging block (−1 − offset).
  const ptrs: number[] = new Array(count);
  let stagingBytes = align16(scratchBytes);
  let staged = false;
  for (let i = 0; i < count; i++) {
    const op = operands[i];
    if (op.ptr >= 0) ptrs[i] = op.ptr;
    else {
      ptrs[i] = -1 - stagingBytes;
      stagingBytes += align16(op.length * 4);
      staged = true;
    }
  }
  options.allocate?.();
  const scratch = memory.stagingBlock(stagingBytes, options.caller);
  // From here on nothing allocates: staged copies in, kernel, staged copies out.
  if (staged) {
    const heap = memory.f32;
    for (let i = 0; i < count; i++) {
      if (operands[i].ptr >= 0) continue;
      ptrs[i] = scratch - 1 - ptrs[i];
      copyInto(heap, operands[i].array!, ptrs[i] >>> 2);
    }
  }
  kernel(ptrs, scratch);
  if (!staged || writeBack === false) return;
  const heap = memory.f32;
  for (let i = 0; i < count; i++) {
    const op = operands[i];
    if (op.ptr >= 0 || (writeBack !== true && !writeBack[i])) continue;
    const at = ptrs[i] >>> 2;
    copyInto(op.array!, heap.subarray(at, at + op.length));
  }
}

/** Same dims in the same order. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;
