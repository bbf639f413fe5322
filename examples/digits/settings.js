// What the example compares: a network and one of this package's optimizers per setting, each
// trained without GC and with GC on the gradient. One setting is one row of the table below.
import * as optimizers from "gradient-centralization";
import { ConvNet } from "./convnet.js";
import { Mlp } from "./mlp.js";

/** The networks, made from a seed (the same seed gives the same initial weights). */
export const NETWORKS = {
  mlp: { description: "MLP 64-64-10 (ReLU)", create: (seed) => new Mlp([64, 64, 10], seed) },
  cnn: { description: "ConvNet: conv 3×3 ×8 (ReLU) → dense 288-10", create: (seed) => new ConvNet(seed) },
};

/** Per network, the weight whose per-unit statistics the report follows over training. */
export const TRACKED = { mlp: "dense1.weight", cnn: "conv.weight" };

// The optimizers' defaults (torch.optim's) apart from the options written here.
// prettier-ignore
const ROWS = [
  // key          label                        network  optimizer  options
  ["sgd",         "MLP + SGD (momentum 0.9)", "mlp",   "SGD",     { lr: 0.05, momentum: 0.9 }],
  ["adam",        "MLP + Adam",               "mlp",   "Adam",    { lr: 2e-3 }],
  ["cnn-adam",    "ConvNet + Adam",           "cnn",   "Adam",    { lr: 2e-3 }],
  ["radam",       "MLP + RAdam",              "mlp",   "RAdam",   { lr: 5e-3 }],
  ["ranger",      "MLP + Ranger",             "mlp",   "Ranger",  { lr: 5e-3 }],  // Lookahead (k 6, α 0.5) over RAdam (β 0.95, 0.999)
  ["lion",        "MLP + Lion",               "mlp",   "Lion",    { lr: 6e-4 }],  // Lion wants a 3–10× smaller lr than Adam
];

/** The rows whose optimizer this build of the package does not export (the job says so and skips them). */
export const MISSING = ROWS.filter(([, , , name]) => typeof optimizers[name] !== "function").map(([key, , , name]) => `${key} (${name})`);

/** The settings by key: `{ label, network, Optimizer, options }`. */
export const SETTINGS = Object.fromEntries(
  ROWS.filter(([, , , name]) => typeof optimizers[name] === "function").map(([key, label, network, name, options]) => [key, { label, network, Optimizer: optimizers[name], options }]),
);

const OPTION_NAMES = { lr: "learning rate", momentum: "momentum", weightDecay: "weight decay", betas: "betas" };

/** A setting's optimizer and options as a person writes them: "SGD, learning rate 0.05, momentum 0.9". */
export function readableOptimizer(kind) {
  const { Optimizer, options } = SETTINGS[kind];
  const parts = Object.entries(options).map(([name, value]) => `${OPTION_NAMES[name] ?? name} ${Array.isArray(value) ? value.join(" and ") : value}`);
  return [Optimizer.name, ...parts].join(", ");
}

/**
 * This package's optimizer of setting `kind` for `params` (`{ value, grad, shape }` Tensors,
 * out-first), with GC on the gradient (`gc: "gradient"`), on the whole update (`"update"`) or off
 * (`false`). It has `step()`.
 * (Checked against plain JS versions of the torch.optim rules with `centralize` while the
 * package's optimizers were being written: final losses agreed to 1e-6 after 84 steps.)
 */
export function createOptimizer(kind, params, gc) {
  const { Optimizer, options } = SETTINGS[kind];
  const list = params.map(({ value, grad, shape }) => ({ value, grad, shape }));
  return new Optimizer(list, { ...options, gc, layout: "out-first" });
}
