// The kernels engine: each variable is stepped by one of the main entry's optimizers (the fused
// WebAssembly kernels) over a master copy of its weights in linear memory. Per step it reads each
// gradient once (dataSync), runs the kernel, and writes the new weights into the variable.
import { tensor as tfTensor, type Tensor as TfTensor } from "@tensorflow/tfjs-core";
import {
  Adadelta,
  Adagrad,
  Adam,
  Adamax,
  AdamW,
  Lion,
  NAdam,
  RAdam,
  Ranger,
  RMSprop,
  SGD,
  Tensor,
  type Layout,
  type OptimizerStateDict,
  type LookaheadStateDict,
} from "../../index.js";
import type { Engine, EngineConfig, EngineStep, EngineVariable, NamedTensor, RuleHyperparameters, RuleName } from "./engine.js";
import { readWeights, writeWeights } from "./weights.js";
import { unitView } from "../unit-view.js";
import { nadamMuProduct } from "./ops-rules.js";

/** What the engine needs of a main-entry optimizer (SGD, Adam, …, or Ranger's Lookahead). */
interface CoreOptimizer {
  lr: number | ((step: number) => number);
  step(): void;
  stateDict(): OptimizerStateDict<never> | LookaheadStateDict<never>;
  loadStateDict(state: never): void;
  dispose(): void;
}

/** One variable's master weights, gradient buffer and optimizer, all in linear memory. */
interface Slot {
  readonly variable: EngineVariable["variable"];
  readonly unitAxis: number | null;
  readonly decay: boolean;
  readonly value: Tensor;
  readonly grad: Tensor;
  readonly optimizer: CoreOptimizer;
  /** The variable's dataId when it last held the master weights (another one: it was set from outside). */
  dataId: object;
  /** Steps the optimizer has counted (−1: unknown, after setState). */
  steps: number;
}

/** The main entry's state buffer names → tf.train's slot names, per rule. */
const SLOT_NAMES: Record<RuleName, Record<string, string>> = {
  sgd: {},
  momentum: { momentumBuffer: "momentum" },
  adam: { expAvg: "m", expAvgSq: "v" },
  adamax: { expAvg: "m", expInf: "v" },
  adagrad: { sum: "accumulator" },
  adadelta: { squareAvg: "accum_grad", accDelta: "accum_var" },
  rmsprop: { squareAvg: "rms", momentumBuffer: "momentum", gradAvg: "mg" },
  adamw: { expAvg: "m", expAvgSq: "v", maxExpAvgSq: "vhat" },
  radam: { expAvg: "m", expAvgSq: "v" },
  nadam: { expAvg: "m", expAvgSq: "v" },
  lion: { expAvg: "m" },
  ranger: { expAvg: "m", expAvgSq: "v" },
};

/** Scalar state (NAdam's μ-product) → its slot name. */
const SCALAR_NAMES: Record<string, string> = { muProduct: "mu_product" };

/**
 * The core's layout for a unit axis: the two ends by name, an axis between as `{ unitAxis }`.
 * `null` (no GC) gives a layout the core ignores (`gc: false`).
 */
function coreLayout(unitAxis: number | null, rank: number): Layout {
  if (unitAxis === null || unitAxis === rank - 1) return "out-last";
  if (unitAxis === 0) return "out-first";
  return { unitAxis };
}

/**
 * The core's view of a variable: its shape and unit axis, with the unit axes merged into one when
 * `unitSpan` > 1 (DepthwiseConv2D's (in, multiplier) pairs: `[kh, kw, in, mult]` seen as
 * `[kh·kw, in·mult]`, out-last). The values are the same row-major array either way.
 */
function coreView(variable: EngineVariable): { shape: number[]; unitAxis: number | null } {
  const shape = [...variable.variable.shape];
  const span = variable.unitSpan ?? 1;
  if (variable.unitAxis === null || span === 1) return { shape, unitAxis: variable.unitAxis };
  const [outer, units, inner] = unitView(shape, { axis: variable.unitAxis, span });
  if (inner === 1) return { shape: [outer, units], unitAxis: 1 };
  if (outer === 1) return { shape: [units, inner], unitAxis: 0 };
  return { shape: [outer, units, inner], unitAxis: 1 };
}

/** The hyperparameters of `config`, typed as `rule`'s (the switch below reads each rule's own). */
function hyper<R extends RuleName>(config: EngineConfig, _rule: R): RuleHyperparameters[R] {
  return config.hyperparameters as RuleHyperparameters[R];
}

/** The main-entry optimizer stepping one variable by `config`'s rule. */
function makeCore(config: EngineConfig, variable: EngineVariable, value: Tensor, grad: Tensor): CoreOptimizer {
  const params = [{ value, grad }];
  const gc = variable.unitAxis === null ? false : config.gc;
  const common = { lr: 0, gc, layout: coreLayout(coreView(variable).unitAxis, value.shape.length) };
  const decay = (weightDecay: number) => (variable.decay ? weightDecay : 0);
  let made: unknown;
  switch (config.rule) {
    case "sgd":
      made = new SGD(params, common);
      break;
    case "momentum": {
      const { momentum, useNesterov } = hyper(config, "momentum");
      made = new SGD(params, { ...common, momentum, nesterov: useNesterov && momentum > 0 });
      break;
    }
    case "adam": {
      const { beta1, beta2, epsilon } = hyper(config, "adam");
      made = new Adam(params, { ...common, betas: [beta1, beta2], eps: epsilon, formula: "tfjs" });
      break;
    }
    case "adamax": {
      const { beta1, beta2, epsilon, decay: lrDecay } = hyper(config, "adamax");
      made = new Adamax(params, { ...common, betas: [beta1, beta2], eps: epsilon, lrDecay, formula: "tfjs" });
      break;
    }
    case "adagrad": {
      const { initialAccumulatorValue, epsilon } = hyper(config, "adagrad");
      made = new Adagrad(params, { ...common, initialAccumulatorValue, eps: epsilon, formula: "tfjs" });
      break;
    }
    case "adadelta": {
      const { rho, epsilon } = hyper(config, "adadelta");
      made = new Adadelta(params, { ...common, rho, eps: epsilon, formula: "tfjs" });
      break;
    }
    case "rmsprop": {
      const { decay: alpha, momentum, epsilon, centered } = hyper(config, "rmsprop");
      made = new RMSprop(params, { ...common, alpha, momentum, eps: epsilon, centered, formula: "tfjs" });
      break;
    }
    case "adamw": {
      const { betas, eps, weightDecay, amsgrad } = hyper(config, "adamw");
      made = new AdamW(params, { ...common, betas, eps, weightDecay: decay(weightDecay), amsgrad });
      break;
    }
    case "radam": {
      const { betas, eps, weightDecay } = hyper(config, "radam");
      made = new RAdam(params, { ...common, betas, eps, weightDecay: decay(weightDecay) });
      break;
    }
    case "nadam": {
      const { betas, eps, weightDecay, momentumDecay } = hyper(config, "nadam");
      made = new NAdam(params, { ...common, betas, eps, weightDecay: decay(weightDecay), momentumDecay });
      break;
    }
    case "lion": {
      const { betas, weightDecay } = hyper(config, "lion");
      made = new Lion(params, { ...common, betas, weightDecay: decay(weightDecay) });
      break;
    }
    case "ranger": {
      const { betas, eps, weightDecay, k, alpha } = hyper(config, "ranger");
      made = new Ranger(params, { ...common, betas, eps, weightDecay: decay(weightDecay), k, alpha });
      break;
    }
  }
  return made as CoreOptimizer;
}

/** A Lookahead checkpoint (Ranger's) or a plain optimizer's. */
function isLookahead(state: OptimizerStateDict<never> | LookaheadStateDict<never>): state is LookaheadStateDict<never> {
  return "inner" in state;
}

/**
 * The kernels engine (cpu and wasm backends; needs `init()`): state in linear memory, one fused
 * kernel call per variable and step, weights written back into the variables.
 *
 * @example
 * const engine = createKernelsEngine({ rule: "adam", hyperparameters: { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, gc: "gradient" });
 * engine.apply([{ name: w.name, variable: w, unitAxis: 1, decay: true }], { gradients: [dw], learningRate: 1e-3, step: 1 });
 */
export function createKernelsEngine(config: EngineConfig): Engine {
  return new KernelsEngine(config);
}

class KernelsEngine implements Engine {
  readonly kind = "kernels" as const;
  readonly #config: EngineConfig;
  readonly #slots = new Map<string, Slot>();

  constructor(config: EngineConfig) {
    this.#config = config;
  }

  apply(variables: readonly EngineVariable[], step: EngineStep): void {
    const present = variables.flatMap((variable, i) => {
      const gradient = step.gradients[i];
      return gradient == null ? [] : [{ variable, gradient }];
    });
    for (const { variable, gradient } of present) checkGradient(variable, gradient);
    for (const { variable, gradient } of present) {
      const slot = this.#slotFor(variable);
      this.#syncSteps(slot, step.step - 1);
      readWeights(gradient, slot.grad.data);
      slot.optimizer.lr = step.learningRate;
      slot.optimizer.step();
      slot.steps++;
      slot.dataId = writeWeights(slot.variable, slot.value.data);
    }
  }

  getState(variables: readonly EngineVariable[]): NamedTensor[] {
    const names = SLOT_NAMES[this.#config.rule];
    const out: NamedTensor[] = [];
    for (const variable of variables) {
      const slot = this.#slots.get(variable.name);
      if (slot === undefined) continue;
      const dict = slot.optimizer.stateDict();
      const entry = (isLookahead(dict) ? dict.inner : dict).state[0] as unknown as Record<string, unknown>;
      for (const [buffer, slotName] of Object.entries(names)) {
        const values = entry[buffer];
        if (values instanceof Float32Array) out.push({ name: `${variable.name}/${slotName}`, tensor: tfTensor(values, slot.variable.shape, "float32") });
      }
      for (const [scalar, slotName] of Object.entries(SCALAR_NAMES)) {
        const value = entry[scalar];
        if (typeof value === "number") out.push({ name: `${variable.name}/${slotName}`, tensor: tfTensor(value, [], "float32") });
      }
      if (isLookahead(dict)) out.push({ name: `${variable.name}/slow`, tensor: tfTensor(dict.slow[0] as Float32Array, slot.variable.shape, "float32") });
    }
    return out;
  }

  setState(variables: readonly EngineVariable[], state: readonly NamedTensor[]): void {
    const byName = new Map(state.map((entry) => [entry.name, entry.tensor]));
    const names = SLOT_NAMES[this.#config.rule];
    for (const variable of variables) {
      const slot = this.#slotFor(variable);
      const dict = slot.optimizer.stateDict();
      const inner = isLookahead(dict) ? dict.inner : dict;
      const entry: Record<string, unknown> = { step: inner.state[0].step };
      for (const [buffer, slotName] of [...Object.entries(names), ...Object.entries(SCALAR_NAMES)]) {
        const tensor = byName.get(`${variable.name}/${slotName}`);
        if (tensor === undefined) continue;
        const values = tensor.dataSync() as Float32Array;
        entry[buffer] = buffer in SCALAR_NAMES ? values[0] : Float32Array.from(values);
      }
      const buffer = entry.momentumBuffer;
      const view = coreView(variable);
      if (this.#config.rule === "momentum" && buffer instanceof Float32Array && view.unitAxis !== null && this.#config.gc !== false) {
        // The SGD kernel centers a momentum buffer not known to be centered before a gc "update"
        // step; a buffer this package saved is centered already, and centering it again would move
        // the next steps by float32 rounding. Say so when its unit means are within rounding of 0.
        if (unitMeansVanish(buffer, view.shape, view.unitAxis)) entry.centered = coreLayout(view.unitAxis, view.shape.length);
      }
      inner.state[0] = entry as never;
      if (isLookahead(dict)) {
        const slow = byName.get(`${variable.name}/slow`);
        dict.slow[0] = slow === undefined ? slot.value.data.slice() : Float32Array.from(slow.dataSync() as Float32Array);
      }
      slot.optimizer.loadStateDict(dict as never);
      slot.steps = -1;
    }
  }

  dispose(): void {
    for (const slot of this.#slots.values()) {
      slot.optimizer.dispose();
      slot.value.dispose();
      slot.grad.dispose();
    }
    this.#slots.clear();
  }

  /** The variable's slot, made on first use; its master weights re-read when the variable was set from outside. */
  #slotFor(variable: EngineVariable): Slot {
    let slot = this.#slots.get(variable.name);
    if (slot !== undefined && (slot.variable !== variable.variable || slot.unitAxis !== variable.unitAxis || slot.decay !== variable.decay)) {
      // Another variable under the same name (the old one disposed), or new GC / decay settings: start over.
      this.#drop(variable.name);
      slot = undefined;
    }
    if (slot === undefined) {
      const { shape } = coreView(variable);
      const value = new Tensor(shape);
      const grad = new Tensor(shape);
      let optimizer: CoreOptimizer;
      try {
        optimizer = makeCore(this.#config, variable, value, grad);
      } catch (error) {
        value.dispose();
        grad.dispose();
        throw error;
      }
      slot = { variable: variable.variable, unitAxis: variable.unitAxis, decay: variable.decay, value, grad, optimizer, dataId: {}, steps: 0 };
      this.#slots.set(variable.name, slot);
    }
    if (slot.dataId !== slot.variable.dataId) {
      readWeights(slot.variable, slot.value.data);
      slot.dataId = slot.variable.dataId;
      if (this.#config.rule === "ranger" && slot.steps === 0) this.#resetSlow(slot);
    }
    return slot;
  }

  /** Ranger before its first step: the slow weights start as the weights read now. */
  #resetSlow(slot: Slot): void {
    const dict = slot.optimizer.stateDict() as LookaheadStateDict<never>;
    dict.slow[0] = slot.value.data.slice();
    slot.optimizer.loadStateDict(dict as never);
  }

  /**
   * Makes the optimizer count `steps` steps taken (bias corrections and Lookahead's rhythm follow
   * the optimizer's iterations, as tf.train's do), after setState or steps this variable missed.
   */
  #syncSteps(slot: Slot, steps: number): void {
    if (slot.steps === steps) return;
    const dict = slot.optimizer.stateDict();
    const inner = isLookahead(dict) ? dict.inner : dict;
    inner.state[0].step = steps;
    inner.step = steps;
    if (this.#config.rule === "nadam" && steps > 0) {
      // The μ-product follows the optimizer's steps as the bias corrections do (steps this variable
      // had no gradient included), as the ops engine's does.
      const { betas, momentumDecay } = this.#config.hyperparameters as RuleHyperparameters["nadam"];
      (inner.state[0] as unknown as Record<string, unknown>).muProduct = nadamMuProduct(betas[0], momentumDecay, steps);
    }
    if (isLookahead(dict)) dict.step = steps;
    slot.optimizer.loadStateDict(dict as never);
    slot.steps = steps;
  }

  #drop(name: string): void {
    const slot = this.#slots.get(name);
    if (slot === undefined) return;
    slot.optimizer.dispose();
    slot.value.dispose();
    slot.grad.dispose();
    this.#slots.delete(name);
  }
}

/**
 * True when every output unit of `values` (a `shape` tensor, units on `axis`) has a mean within
 * float32 rounding of 0: |mean| ≤ 2⁻¹⁹ · (largest |value| of the unit).
 */
function unitMeansVanish(values: Float32Array, shape: readonly number[], axis: number): boolean {
  const units = shape[axis];
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  const outer = units * inner === 0 ? 0 : values.length / (units * inner);
  for (let u = 0; u < units; u++) {
    let sum = 0;
    let largest = 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const x = values[(o * units + u) * inner + i];
        sum += x;
        largest = Math.max(largest, Math.abs(x));
      }
    }
    if (Math.abs(sum / (outer * inner)) > largest * 2 ** -19) return false;
  }
  return true;
}

/** A gradient must be a live float32 tensor of its variable's shape (checked before any step). */
function checkGradient(variable: EngineVariable, gradient: TfTensor): void {
  const shape = variable.variable.shape;
  if (gradient.isDisposed) throw new TypeError(`applyGradients: the gradient of ${variable.name} is a disposed tf.Tensor`);
  if (gradient.dtype !== "float32") throw new TypeError(`applyGradients: the gradient of ${variable.name} must be float32, got ${gradient.dtype}`);
  if (gradient.shape.length !== shape.length || gradient.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`applyGradients: the gradient of ${variable.name} has shape [${gradient.shape.join(", ")}], its variable [${shape.join(", ")}]`);
  }
}
