// Gradient Centralization (Yong et al., 2020, "Gradient Centralization: A New Optimization
// Technique for Deep Neural Networks", arXiv:2004.01461).
import { kindOf } from "./checks.js";
import { type CentralizeOptions, centralizeOptions, isCentralized, unitMatrix } from "./layout.js";
import { float32Operand, type Gradient, type Operand, parseGradientArgs, withOperands } from "./operands.js";
import { runtime } from "./runtime.js";
import { checkLiveTensor, Tensor } from "./tensor.js";

const TABLE_ENTRY_BYTES = 16;

/**
 * Gradient Centralization, in place: for a gradient of rank > 1,
 * `g[u, …] ← g[u, …] − mean(g[u, …])` for every output unit `u`, the mean taken over every
 * other axis (P = I − eeᵀ applied to each unit's slice). Rank ≤ 1 gradients are returned
 * unchanged; with `convOnly`, so are ranks 2 and 3.
 *
 * @example
 * await init();
 * const g = new Float32Array([1, 2, 3, 4, 5, 6]);
 * centralize(g, [2, 3]);                          // rows (out-first): [-1, 0, 1, -1, 0, 1]
 * centralize(g2, [3, 2], { layout: "out-last" }); // columns of [3, 2]
 * @returns `grad`, centralized.
 */
export function centralize(grad: Float32Array, shape: readonly number[], options?: CentralizeOptions): Float32Array;
export function centralize(grad: Tensor, options?: CentralizeOptions): Tensor;
export function centralize(
  grad: Gradient,
  shapeOrOptions?: readonly number[] | CentralizeOptions,
  maybeOptions?: CentralizeOptions,
): Gradient {
  const rt = runtime("centralize");
  const { operand, options } = parseGradientArgs("centralize", grad, shapeOrOptions, maybeOptions);
  const { layout, convOnly } = centralizeOptions(options, "centralize");
  if (!isCentralized(operand.shape, convOnly)) return grad;
  const { rows, cols, unitsAreRows } = unitMatrix(operand.shape, layout);
  const { kernels } = rt;
  const scratchBytes = unitsAreRows ? 0 : kernels.columnScratchBytes(cols);
  withOperands(rt, [operand.values], scratchBytes, true, ([ptr], scratch) => {
    if (unitsAreRows) kernels.centralizeRows(ptr, rows, cols);
    else kernels.centralizeColumns(ptr, rows, cols, scratch);
  });
  return grad;
}

/** One gradient of a model: a Tensor, or a Float32Array with its shape. */
export type GradientEntry = Tensor | { grad: Float32Array | Tensor; shape?: readonly number[] };

function entryOperand(caller: string, entry: unknown, index: number): Operand {
  const name = `gradients[${index}]`;
  if (entry instanceof Tensor) {
    checkLiveTensor(entry, caller, name);
    return { values: entry, shape: entry.shape };
  }
  if (entry === null || typeof entry !== "object" || !("grad" in entry)) {
    throw new TypeError(`${caller}: ${name} must be a Tensor or { grad, shape }, got ${kindOf(entry)}`);
  }
  const { grad, shape } = entry as { grad: unknown; shape?: unknown };
  if (grad instanceof Tensor) {
    checkLiveTensor(grad, caller, `${name}.grad`);
    return { values: grad, shape: grad.shape };
  }
  return float32Operand(caller, grad, shape, `${name}.grad`);
}

/** The operands of a list of `GradientEntry` (centralizeAll, clipGradNorm, clipGradValue), checked. */
export function gradientListOperands(caller: string, gradients: unknown): Operand[] {
  if (!Array.isArray(gradients)) {
    throw new TypeError(`${caller}: gradients must be an array, got ${kindOf(gradients)}`);
  }
  return gradients.map((entry, index) => entryOperand(caller, entry, index));
}

/**
 * `centralize` applied to every gradient of a model, with one call into wasm: each entry of
 * rank > 1 (rank > 3 with `convOnly`) is centralized in place.
 *
 * @example
 * centralizeAll([{ grad: dW1, shape: [128, 784] }, { grad: db1, shape: [128] }, convTensor]);
 * @returns `gradients`.
 */
export function centralizeAll<T extends readonly GradientEntry[]>(gradients: T, options?: CentralizeOptions): T {
  const rt = runtime("centralizeAll");
  const operands = gradientListOperands("centralizeAll", gradients);
  const { layout, convOnly } = centralizeOptions(options, "centralizeAll");
  const work = operands.filter((op) => isCentralized(op.shape, convOnly));
  const matrices = work.map((op) => unitMatrix(op.shape, layout));
  const { kernels } = rt;
  let columnScratch = 0;
  for (const m of matrices) if (!m.unitsAreRows) columnScratch = Math.max(columnScratch, kernels.columnScratchBytes(m.cols));
  const tableBytes = work.length * TABLE_ENTRY_BYTES;
  const scratchBytes = tableBytes + columnScratch;
  withOperands(rt, work.map((op) => op.values), scratchBytes, true, (ptrs, scratch) => {
    const table = rt.memory.i32;
    matrices.forEach((m, k) => {
      const at = (scratch >>> 2) + k * 4;
      table[at] = ptrs[k];
      table[at + 1] = m.rows;
      table[at + 2] = m.cols;
      table[at + 3] = m.unitsAreRows ? 0 : 1;
    });
    kernels.centralizeMany(scratch, work.length, scratch + tableBytes);
  });
  return gradients;
}
