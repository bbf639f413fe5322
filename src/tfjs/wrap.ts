// withGradientCentralization and centralizeTensor: GC as TF.js ops. They run on every TF.js
// backend (cpu, webgl, webgpu, wasm, node) and need no `init()`.
import type { Optimizer, Tensor } from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { checkOptions, isBoolean, kindOf, type OptionCheck } from "../checks.js";
import { copyLayout, isCentralized, type Layout, layoutOrAxisCheck, unitAxisOf } from "../layout.js";
import type { UnitAxisFunction } from "./options.js";
import { layerUnitAxes } from "./units.js";
import { centralizeUnits, resolveUnitSpec, type UnitAxes, type UnitSpec } from "./unit-view.js";

/** Options of `withGradientCentralization`. */
export interface TfjsGcOptions {
  /** Where GC applies: `"gradient"` (each gradient, before the wrapped update; default) or `false` (off). */
  gc?: "gradient" | false;
  /** Centralize only rank > 3 gradients (convolution kernels: the paper's GCC); default `false`. */
  convOnly?: boolean;
  /**
   * Which axis holds the output units when neither `unitAxis` nor `model` says: `"out-last"`
   * (default; TF.js: dense `[in, out]`, conv `[kh, kw, in, out]`), `"out-first"` or `{ unitAxis: k }`.
   */
  layout?: Layout;
  /**
   * The model whose variables are trained: each variable's unit axes come from its layer
   * (`layerUnitAxes`: Conv2DTranspose axis −2, DepthwiseConv2D (in, multiplier) pairs, Embedding
   * rows, biases and normalization scales not centralized, …). Variables it does not hold use `layout`.
   */
  model?: LayersModel;
  /**
   * Per-variable override, asked first: `(name, shape) => axis | { axis, span } | null` (negative
   * axes from the end; null: no GC for that variable; undefined: ask `model`, then `layout`).
   */
  unitAxis?: UnitAxisFunction;
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

/** A layout option: `"out-first"`, `"out-last"` or `{ unitAxis: k }`, checked on its plain-data copy. */
const layoutOptionCheck: OptionCheck = (value, caller, name) => layoutOrAxisCheck(copyLayout(value, caller, name), caller, name);

/** A tf.LayersModel, duck-typed (`getClassName` and a `layers` array). */
const modelCheck: OptionCheck = (value, caller, name) => {
  const m = value as { getClassName?: unknown; layers?: unknown } | null;
  if (m === null || typeof m !== "object" || typeof m.getClassName !== "function" || !Array.isArray(m.layers)) {
    throw new TypeError(`${caller}: ${name} must be a tf.LayersModel, got ${kindOf(value)}`);
  }
};

const functionCheck: OptionCheck = (value, caller, name) => {
  if (typeof value !== "function") throw new TypeError(`${caller}: ${name} must be a function (name, shape) => axis | null, got ${kindOf(value)}`);
};

/**
 * A variable's unit axes, or null (not centralized): `unitAxis(name, shape)` when it answers
 * (not undefined), else the model's layer table (read again when a name is new to it: layers
 * built after wrapping), else `layout`. Rank ≤ 1 is never centralized.
 */
function variableUnitAxes(layout: Layout, model?: LayersModel, unitAxis?: UnitAxisFunction) {
  let fromModel: Map<string, UnitSpec | null> | undefined;
  return (name: string, shape: readonly number[]): UnitAxes | null => {
    if (shape.length <= 1) return null;
    const label = `options.unitAxis(${JSON.stringify(name)}, [${shape.join(", ")}])`;
    const asked = unitAxis?.(name, shape);
    if (asked === null) return null;
    if (asked !== undefined) return resolveUnitSpec(asked, shape.length, "applyGradients", label);
    if (model !== undefined) {
      if (!fromModel?.has(name)) fromModel = layerUnitAxes(model);
      const spec = fromModel.get(name);
      if (spec === null) return null;
      if (spec !== undefined) return resolveUnitSpec(spec, shape.length, "applyGradients", `the unit axis of ${JSON.stringify(name)}`);
    }
    return layoutAxes(layout, shape, "applyGradients");
  };
}

// The optimizer's own applyGradients, kept so that wrapping twice replaces the options instead of
// centralizing twice.
const originals = new WeakMap<Optimizer, ApplyGradients>();

/** Options of `centralizeTensor`. */
export interface CentralizeTensorOptions {
  /** Which axis holds the output units: `"out-last"` (default), `"out-first"` or `{ unitAxis: k }` (as the main entry's layouts). */
  layout?: Layout;
  /** The unit axes instead of `layout`: an axis (negative from the end) or `{ axis, span }` (see UnitSpec). */
  unitAxis?: UnitSpec;
  /** Centralize only rank > 3 gradients (convolution kernels: the paper's GCC); default `false`. */
  convOnly?: boolean;
}

/** The unit axes a layout names (`{ unitAxis: k }` out of range for `shape`: a RangeError naming `caller`). */
function layoutAxes(layout: Layout, shape: readonly number[], caller: string): UnitAxes {
  return { axis: unitAxisOf(shape, layout, caller, "options.layout"), span: 1 };
}

/**
 * Gradient Centralization of one TF.js gradient: for rank > 1 (rank > 3 with `convOnly`),
 * `g[o, u, i] ← g[o, u, i] − mean_{o, i} g[·, u, ·]` for every output unit `u` of the
 * `[outer, units, inner]` view that the unit axes make (`unitAxis`, or `layout`: out-last is the
 * last axis, out-first axis 0); other gradients are returned as they are (same tensor).
 * A second pass subtracts the mean of the residual, which removes the float32 rounding of the
 * first mean (so a large common offset does not survive as ~1e-5 errors).
 * Returns a new tensor when it centralizes; the caller disposes it. A `gradient` that is not a live
 * numeric tf.Tensor, or a bad option, throws a TypeError or RangeError naming it.
 *
 * @example
 * const g = tf.tensor2d([[1, 10], [3, 30]]);            // [in = 2, out = 2]
 * centralizeTensor(g).arraySync();                       // [[-1, -10], [1, 10]]
 * centralizeTensor(g, { unitAxis: 0 }).arraySync();      // [[-4.5, 4.5], [-13.5, 13.5]]
 */
export function centralizeTensor(gradient: Tensor, options?: CentralizeTensorOptions): Tensor {
  const caller = "centralizeTensor";
  checkTfTensor(gradient, caller, "gradient");
  const record = checkOptions<CentralizeTensorOptions>(
    options,
    { layout: layoutOptionCheck, unitAxis: () => {}, convOnly: isBoolean },
    caller,
  );
  const layout = copyLayout(record.layout, caller, "options.layout") as Layout | undefined;
  const { unitAxis, convOnly = false } = record;
  if (layout !== undefined && unitAxis !== undefined) {
    throw new TypeError(`${caller}: options.layout and options.unitAxis name the unit axis twice; pass one`);
  }
  const rank = gradient.rank;
  const axes = unitAxis === undefined ? layoutAxes(layout ?? "out-last", gradient.shape, caller) : resolveUnitSpec(unitAxis, rank, caller, "options.unitAxis");
  return isCentralized(gradient.shape, convOnly) ? centralizeUnits(gradient, axes) : gradient;
}

/**
 * Wraps a TF.js optimizer so that every `applyGradients` (hence `minimize` and `model.fit`)
 * first centralizes each gradient, `g ← P g` with P = I − eeᵀ per output unit (the paper's GC,
 * applied to the gradient, as the official SGD_GC / Adam_GC do). The gradient list keeps its
 * form (map or array), order and length, null gradients pass through, and every tensor the
 * wrapper creates is disposed after the update. Returns the same optimizer object (its
 * `applyGradients` replaced), so it still is a `tf.Optimizer` for `model.compile`.
 * Each variable's units: `unitAxis(name, shape)` if given and not undefined, else its layer's in
 * `model` (`layerUnitAxes`: Conv2DTranspose axis −2, DepthwiseConv2D (in, multiplier) pairs,
 * Embedding rows, biases and normalization scales left alone), else `layout` (out-last).
 *
 * @example
 * import * as tf from "@tensorflow/tfjs";
 * import { withGradientCentralization } from "gradient-centralization/tfjs";
 * model.compile({ optimizer: withGradientCentralization(tf.train.adam(1e-3), { model }), loss: "categoricalCrossentropy" });
 * await model.fit(xs, ys);
 */
export function withGradientCentralization<T extends Optimizer>(optimizer: T, options?: TfjsGcOptions): T {
  const caller = "withGradientCentralization";
  if (optimizer === null || typeof optimizer !== "object" || typeof optimizer.applyGradients !== "function") {
    throw new TypeError(`${caller}: optimizer must be a tf.Optimizer (with applyGradients), got ${kindOf(optimizer)}`);
  }
  const record = checkOptions<TfjsGcOptions>(
    options,
    { gc: gcCheck, convOnly: isBoolean, layout: layoutOptionCheck, model: modelCheck, unitAxis: functionCheck },
    caller,
  );
  const { gc = "gradient", convOnly = false, model, unitAxis } = record;
  const layout = (copyLayout(record.layout, caller, "options.layout") as Layout | undefined) ?? "out-last";
  const original = originals.get(optimizer) ?? optimizer.applyGradients;
  originals.set(optimizer, original);
  if (gc === false) {
    optimizer.applyGradients = original;
    return optimizer;
  }
  const axesOf = variableUnitAxes(layout, model, unitAxis);
  optimizer.applyGradients = function applyCentralizedGradients(gradients: VariableGradients): void {
    if (gradients === null || typeof gradients !== "object") {
      throw new TypeError(`applyGradients: gradients must be a { name: tensor } map or a { name, tensor }[] list, got ${kindOf(gradients)}`);
    }
    const created: Tensor[] = [];
    const centralizeOne = (g: Tensor | null | undefined, variableName: string, label: string): Tensor => {
      if (g == null) return g as unknown as Tensor; // TF.js optimizers skip null gradients
      const tensor = checkTfTensor(g, "applyGradients", label);
      const axes = axesOf(variableName, tensor.shape);
      if (axes === null || !isCentralized(tensor.shape, convOnly)) return tensor;
      const c = centralizeUnits(tensor, axes);
      created.push(c);
      return c;
    };
    try {
      const centralized: VariableGradients = Array.isArray(gradients)
        ? gradients.map((entry, i) => ({ ...entry, tensor: centralizeOne(entry.tensor, entry.name, `gradients[${i}].tensor`) }))
        : Object.fromEntries(
          Object.entries(gradients).map(([name, g]) => [name, centralizeOne(g, name, `gradients[${JSON.stringify(name)}]`)]),
        );
      original.call(optimizer, centralized);
    } finally {
      for (const t of created) t.dispose();
    }
  };
  return optimizer;
}
