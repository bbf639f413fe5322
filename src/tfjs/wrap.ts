// withGradientCentralization and centralizeTensor: GC as TF.js ops. They run on every TF.js
// backend (cpu, webgl, webgpu, wasm, node) and need no `init()`.
import { mean, type Optimizer, sub, type Tensor, tidy } from "@tensorflow/tfjs-core";
import { checkOptions, isBoolean, kindOf, type OptionCheck } from "../checks.js";
import { type Layout, isCentralized, layoutCheck } from "../layout.js";

/** Options of `withGradientCentralization`. */
export interface TfjsGcOptions {
  /** Where GC applies: `"gradient"` (each gradient, before the wrapped update; default) or `false` (off). */
  gc?: "gradient" | false;
  /** Centralize only rank > 3 gradients (convolution kernels: the paper's GCC); default `false`. */
  convOnly?: boolean;
  /** Which axis holds the output units; default `"out-last"` (TF.js: dense `[in, out]`, conv `[kh, kw, in, out]`). */
  layout?: Layout;
}

/** What `applyGradients` accepts: a `{ [name]: gradient }` map or a `{ name, tensor }[]` list. */
export type VariableGradients = Parameters<Optimizer["applyGradients"]>[0];

type ApplyGradients = Optimizer["applyGradients"];

/** `"gradient"` or `false`. */
const gcCheck: OptionCheck = (value, caller, name) => {
  if (value === false || value === "gradient") return;
  const got = typeof value === "string" ? `"${value}"` : typeof value === "boolean" ? String(value) : kindOf(value);
  const message = `${caller}: ${name} must be "gradient" or false, got ${got}`;
  throw typeof value === "string" ? new RangeError(message) : new TypeError(message);
};

/**
 * Validates that `value` is a live, numeric TF.js tensor, by the members the adapter and TF.js's ops
 * read (shape, rank, dtype, dataSync) rather than by `instanceof`: a tensor made by another copy of
 * tfjs-core (an app bundling its own, tfjs-node next to tfjs) must pass. tfjs-core duck-types its own
 * `instanceof Tensor` for that reason; checking the members directly says the same without importing
 * tfjs-core's class at run time (the adapter imports only its ops).
 */
function checkTfTensor(value: unknown, caller: string, name: string): Tensor {
  const t = value as Partial<Tensor>;
  if (
    value === null || typeof value !== "object" || !Array.isArray(t.shape) || typeof t.rank !== "number" ||
    typeof t.dtype !== "string" || typeof t.dataSync !== "function"
  ) {
    throw new TypeError(`${caller}: ${name} must be a tf.Tensor, got ${kindOf(value)}`);
  }
  if (t.isDisposed) throw new TypeError(`${caller}: ${name} is a disposed tf.Tensor`);
  if (t.dtype === "string") throw new TypeError(`${caller}: ${name} must be a numeric tf.Tensor, got dtype "string"`);
  return value as Tensor;
}

// The optimizer's own applyGradients, kept so that wrapping twice replaces the options instead of
// centralizing twice.
const originals = new WeakMap<Optimizer, ApplyGradients>();

/**
 * Gradient Centralization of one TF.js gradient: for rank > 1 (rank > 3 with `convOnly`),
 * `g[…, u] ← g[…, u] − mean(g[…, u])` for every output unit `u` (the last axis, out-last), the
 * mean taken over every other axis; other gradients are returned as they are (same tensor).
 * A second pass subtracts the mean of the residual, which removes the float32 rounding of the
 * first mean (so a large common offset does not survive as ~1e-5 errors).
 * Returns a new tensor when it centralizes; the caller disposes it. A `gradient` that is not a live
 * numeric tf.Tensor, or a bad option, throws a TypeError or RangeError naming it.
 *
 * @example
 * const g = tf.tensor2d([[1, 10], [3, 30]]);            // [in = 2, out = 2]
 * centralizeTensor(g).arraySync();                       // [[-1, -10], [1, 10]]
 */
export function centralizeTensor(gradient: Tensor, options?: { layout?: Layout; convOnly?: boolean }): Tensor {
  const caller = "centralizeTensor";
  checkTfTensor(gradient, caller, "gradient");
  const { layout = "out-last", convOnly = false } = checkOptions<{ layout: Layout; convOnly: boolean }>(
    options,
    { layout: layoutCheck, convOnly: isBoolean },
    caller,
  );
  return centralizeChecked(gradient, layout, convOnly);
}

/** `centralizeTensor` on arguments already checked. */
function centralizeChecked(gradient: Tensor, layout: Layout, convOnly: boolean): Tensor {
  if (!isCentralized(gradient.shape, convOnly)) return gradient;
  const rank = gradient.rank;
  const axes = layout === "out-last" ? [...Array(rank - 1).keys()] : [...Array(rank - 1).keys()].map((a) => a + 1);
  return tidy(() => {
    const residual = sub(gradient, mean(gradient, axes, true));
    return sub(residual, mean(residual, axes, true));
  });
}

/**
 * Wraps a TF.js optimizer so that every `applyGradients` (hence `minimize` and `model.fit`)
 * first centralizes each gradient, `g ← P g` with P = I − eeᵀ per output unit (the paper's GC,
 * applied to the gradient, as the official SGD_GC / Adam_GC do). The gradient list keeps its
 * form (map or array), order and length, null gradients pass through, and every tensor the
 * wrapper creates is disposed after the update. Returns the same optimizer object (its
 * `applyGradients` replaced), so it still is a `tf.Optimizer` for `model.compile`.
 *
 * @example
 * import * as tf from "@tensorflow/tfjs";
 * import { withGradientCentralization } from "gradient-centralization/tfjs";
 * model.compile({ optimizer: withGradientCentralization(tf.train.adam(1e-3)), loss: "categoricalCrossentropy" });
 * await model.fit(xs, ys);
 */
export function withGradientCentralization<T extends Optimizer>(optimizer: T, options?: TfjsGcOptions): T {
  const caller = "withGradientCentralization";
  if (optimizer === null || typeof optimizer !== "object" || typeof optimizer.applyGradients !== "function") {
    throw new TypeError(`${caller}: optimizer must be a tf.Optimizer (with applyGradients), got ${kindOf(optimizer)}`);
  }
  const {
    gc = "gradient",
    convOnly = false,
    layout = "out-last",
  } = checkOptions<TfjsGcOptions>(options, { gc: gcCheck, convOnly: isBoolean, layout: layoutCheck }, caller);
  const original = originals.get(optimizer) ?? optimizer.applyGradients;
  originals.set(optimizer, original);
  if (gc === false) {
    optimizer.applyGradients = original;
    return optimizer;
  }
  optimizer.applyGradients = function applyCentralizedGradients(gradients: VariableGradients): void {
    if (gradients === null || typeof gradients !== "object") {
      throw new TypeError(`applyGradients: gradients must be a { name: tensor } map or a { name, tensor }[] list, got ${kindOf(gradients)}`);
    }
    const created: Tensor[] = [];
    const centralizeOne = (g: Tensor | null | undefined, name: string): Tensor => {
      if (g == null) return g as unknown as Tensor; // TF.js optimizers skip null gradients
      const c = centralizeChecked(checkTfTensor(g, "applyGradients", name), layout, convOnly);
      if (c !== g) created.push(c);
      return c;
    };
    try {
      const centralized: VariableGradients = Array.isArray(gradients)
        ? gradients.map((entry, i) => ({ ...entry, tensor: centralizeOne(entry.tensor, `gradients[${i}].tensor`) }))
        : Object.fromEntries(Object.entries(gradients).map(([name, g]) => [name, centralizeOne(g, `gradients[${JSON.stringify(name)}]`)]));
      original.call(optimizer, centralized);
    } finally {
      for (const t of created) t.dispose();
    }
  };
  return optimizer;
}
