// Moving values between TF.js tensors and linear memory: a gradient or a variable's weights read
// once into a Float32Array view, the new weights written into a variable.
import { tensor as tfTensor, type Tensor, type Variable } from "@tensorflow/tfjs-core";

/** Copies `source`'s values into `target` (a view of linear memory of the same size). */
export function readWeights(source: Tensor, target: Float32Array): void {
  target.set(source.dataSync() as Float32Array);
}

/**
 * Makes `values` the variable's value: `variable.assign` of a new tensor holding a copy (the cpu
 * backend keeps the array it is given, so a view of linear memory must not reach it). Returns the
 * variable's new dataId.
 */
export function writeWeights(variable: Variable, values: Float32Array): object {
  const next = tfTensor(values.slice(), variable.shape, "float32");
  variable.assign(next);
  next.dispose();
  return variable.dataId;
}
