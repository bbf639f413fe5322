// Gradient Centralization (Yong et al., 2020, "Gradient Centralization: A New Optimization
// Technique for Deep Neural Networks", arXiv:2004.01461).
import { copyArray, describe, has, isArrayValue, readRecord } from "./args.js";
import { type CentralizeOptions, centralizeOptions, checkExtent, isCentralized, isEmptyShape, unitView } from "./layout.js";
import { checkDisjoint, checkGradient, type Gradient, type GradientInput, readGradient, readGradientArgs, withOperands } from "./operands.js";
import { runtime } from "./runtime.js";
import { isTensor, type Tensor } from "./tensor.js";

const TABLE_ENTRY_BYTES = 16;

/**
 * Gradient Centralization, in place: for a gradient of rank > 1 seen as an `[outer, units, inner]`
 * view (units on the layout's axis k: `[prod(shape[:k]), shape[k], prod(shape[k+1:])]`),
 * `g[o, u, i] ← g[o, u, i] − mean over (o', i') of g[o', u, i']` for every output unit `u`
 * (P = I − eeᵀ applied to each unit's values). Rank ≤ 1 gradients are returned unchanged; with
 * `convOnly`, so are ranks 2 and 3.
 *
 * @example
 * await init();
 * const g = new Float32Array([1, 2, 3, 4, 5, 6]);
 * centralize(g, [2, 3]);                                   // rows (out-first): [-1, 0, 1, -1, 0, 1]
 * centralize(g2, [3, 2], { layout: "out-last" });          // columns of [3, 2]
 * centralize(g3, [3, 3, 8, 16], { layout: { unitAxis: -2 } }); // Conv2DTranspose: 8 units of 3·3·16
 * @returns `grad`, centralized.
 */
export function centralize(grad: Float32Array, shape: readonly number[], options?: CentralizeOptions): Float32Array;
export function centralize(grad: Tensor, options?: CentralizeOptions): Tensor;
export function centralize(
  grad: Gradient,
  shapeOrOptions?: readonly number[] | CentralizeOptions,
  maybeOptions?: CentralizeOptions,
): Gradient {
  const caller = "centralize";
  const rt = runtime(caller);
  // Read every argument (caller code may run only here), then check, then write.
  const { input, options } = readGradientArgs(caller, grad, shapeOrOptions, maybeOptions);
  const { layout, convOnly } = centralizeOptions(options, caller);
  const operand = checkGradient(rt, caller, input);
  checkExtent(operand.shape, caller);
  // An empty gradient has nothing to centralize: no scratch, no kernel call, whatever its other dims.
  if (!isCentralized(operand.shape, convOnly) || isEmptyShape(operand.shape)) return grad;
  const { outer, units, inner } = unitView(operand.shape, layout, caller, "options.layout");
  const kernels = rt.kernelsFor(outer * units * inner);
  const scratchBytes = kernels.viewScratchBytes(outer, units, inner);
  withOperands(rt, [operand], scratchBytes, true, ([ptr], scratch) => {
    kernels.centralizeView(ptr, outer, units, inner, scratch);
  }, { caller: "centralize" });
  return grad;
}

/** One gradient of a model: a Tensor, or a Float32Array with its shape. */
export type GradientEntry = Tensor | { grad: Float32Array | Tensor; shape?: readonly number[] };

/** Reads one entry of a gradient list: a Tensor, or `{ grad, shape }` (own properties, read once). */
function readEntry(caller: string, entry: unknown, index: number): GradientInput {
  const name = `gradients[${index}]`;
  if (isTensor(entry)) return { kind: "tensor", tensor: entry, name };
  if (entry === null || typeof entry !== "object" || isArrayValue(entry)) {
    throw new TypeError(`${caller}: ${name} must be a Tensor or { grad, shape }, got ${describe(entry)}`);
  }
  const fields = readRecord(entry, caller, name);
  if (!has(fields, "grad")) {
    throw new TypeError(`${caller}: ${name} must be a Tensor or { grad, shape } (own properties), got ${describe(entry)}`);
  }
  return readGradient(caller, fields.grad, fields.shape, `${name}.grad`, `${name}.grad.shape`);
}

/** Reads a list of `GradientEntry` (centralizeAll, clipGradNorm, clipGradValue): the array copied, each entry read once. */
export function readGradientList(caller: string, gradients: unknown): GradientInput[] {
  const list = copyArray(gradients, caller, "gradients");
  if (list === undefined) throw new TypeError(`${caller}: gradients must be an array, got ${describe(gradients)}`);
  return list.map((entry, index) => readEntry(caller, entry, index));
}

/**
 * `centralize` applied to every gradient of a model, with one call into wasm: each entry of
 * rank > 1 (rank > 3 with `convOnly`) is centralized in place. Entries must not share memory.
 *
 * @example
 * centralizeAll([{ grad: dW1, shape: [128, 784] }, { grad: db1, shape: [128] }, convTensor]);
 * @returns `gradients`.
 */
export function centralizeAll<T extends readonly GradientEntry[]>(gradients: T, options?: CentralizeOptions): T {
  const caller = "centralizeAll";
  const rt = runtime(caller);
  const inputs = readGradientList(caller, gradients);
  const { layout, convOnly } = centralizeOptions(options, caller);
  // Every caller value is read: check against memory as it is now.
  const operands = inputs.map((input) => checkGradient(rt, caller, input));
  operands.forEach((op, i) => checkExtent(op.shape, caller, `${inputs[i].name} shape`));
  // Empty gradients have nothing to centralize: no staging, no scratch, no table entry.
  const written = operands.map((op) => isCentralized(op.shape, convOnly) && !isEmptyShape(op.shape));
  const work = operands.filter((_, i) => written[i]);
  checkDisjoint(caller, operands, (i) => inputs[i].name, (i) => written[i]);
  const workNames = inputs.filter((_, i) => written[i]).map((input) => input.name);
  const views = work.map((op, k) => unitView(op.shape, layout, caller, "options.layout", workNames[k]));
  const values = views.reduce((sum, v) => sum + v.outer * v.units * v.inner, 0);
  const kernels = rt.kernelsFor(values);
  let viewScratch = 0;
  for (const v of views) viewScratch = Math.max(viewScratch, kernels.viewScratchBytes(v.outer, v.units, v.inner));
  const tableBytes = work.length * TABLE_ENTRY_BYTES;
  const scratchBytes = tableBytes + viewScratch;
  withOperands(rt, work, scratchBytes, true, (ptrs, scratch) => {
    const table = rt.memory.i32;
    views.forEach((v, k) => {
      const at = (scratch >>> 2) + k * 4;
      table[at] = ptrs[k];
      table[at + 1] = v.outer;
      table[at + 2] = v.units;
      table[at + 3] = v.inner;
    });
    kernels.centralizeMany(scratch, work.length, scratch + tableBytes);
  }, { caller: "centralizeAll" });
  return gradients;
}
