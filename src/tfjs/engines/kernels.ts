// The kernels engine: the variables of a step are stepped by one of the main entry's optimizers
// (the fused WebAssembly kernels, one call for all of them) over master copies of their weights in
// linear memory. Per step it reads each gradient once (weights.ts: from the backend's storage
// where it can), runs the kernel, and writes each new weight into its variable.
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
import type { Engine, EngineConfig, EngineStep, EngineVariable, NamedTensor, RuleHyperparameters, RuleName, TfjsGcMode } from "./engine.js";
import { readWeights, writeWeights } from "./weights.js";
import { unitView } from "../unit-view.js";
import { nadamMuProduct } from "./ops-rules.js";

/** What the engine needs of a main-entry optimizer (SGD, Adam, …, or Ranger's Lookahead). */
interface CoreOptimizer {
  readonly paramGroups: readonly { lr: number | ((step: number) => number) }[];
  step(): void;
  stateDict(): OptimizerStateDict<never> | LookaheadStateDict<never>;
  loadStateDict(state: never): void;
  dispose(): void;
}

/** One variable's state as a checkpoint entry holds it, while no batch optimizer holds it. */
interface Parked {
  entry: Record<string, unknown> & { step: number };
  /** Ranger's slow weights (undefined: the weights when its batch is made). */
  slow: Float32Array | undefined;
}

/** One variable's master weights and gradient buffer in linear memory; its state in a batch or parked. */
interface Slot {
  readonly name: string;
  readonly variable: EngineVariable["variable"];
  readonly unitAxis: number | null;
  readonly decay: boolean;
  /** The core's view of the variable (coreView). */
  readonly view: { shape: number[]; unitAxis: number | null };
  readonly value: Tensor;
  readonly grad: Tensor;
  /** The variable's dataId when it last held the master weights (another one: it was set from outside). */
  dataId: object;
  /** Steps its state has counted (−1: unknown, after setState). */
  steps: number;
  /** The batch whose optimizer holds its state, and its index in that optimizer's checkpoint. */
  batch: Batch | undefined;
  index: number;
  /** Its state while `batch` is undefined (undefined: none yet, the rule's initial state). */
  parked: Parked | undefined;
}

/** One main-entry optimizer over a set of variables, stepped by one kernel call. */
interface Batch {
  readonly optimizer: CoreOptimizer;
  /** Its variables in checkpoint order (group order, then parameter order). */
  readonly slots: readonly Slot[];
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

/** Variables the core steps with the same group hyperparameters: GC mode, layout and weight decay. */
interface CoreGroup {
  readonly slots: Slot[];
  readonly gc: TfjsGcMode;
  readonly layout: Layout;
  readonly decay: boolean;
}

/** The variables in groups of the same GC mode, layout and decay, in the order each group first appears. */
function coreGroups(config: EngineConfig, slots: readonly Slot[]): CoreGroup[] {
  const groups = new Map<string, CoreGroup>();
  for (const slot of slots) {
    const gc = slot.view.unitAxis === null ? false : config.gc;
    const layout = coreLayout(slot.view.unitAxis, slot.view.shape.length);
    const key = `${gc}/${typeof layout === "string" ? layout : layout.unitAxis}/${slot.decay}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { slots: [], gc, layout, decay: slot.decay }));
    group.slots.push(slot);
  }
  return [...groups.values()];
}

/** The main-entry optimizer stepping `groups` by `config`'s rule: one kernel call per step for all of them. */
function makeCore(config: EngineConfig, groups: readonly CoreGroup[]): CoreOptimizer {
  const params = (weightDecay?: number) =>
    groups.map((group) => ({
      params: group.slots.map((slot) => ({ value: slot.value, grad: slot.grad })),
      gc: group.gc,
      layout: group.layout,
      ...(weightDecay === undefined ? {} : { weightDecay: group.decay ? weightDecay : 0 }),
    }));
  const common = { lr: 0 };
  let made: unknown;
  switch (config.rule) {
    case "sgd":
      made = new SGD(params(), common);
      break;
    case "momentum": {
      const { momentum, useNesterov } = hyper(config, "momentum");
      made = new SGD(params(), { ...common, momentum, nesterov: useNesterov && momentum > 0 });
      break;
    }
    case "adam": {
      const { beta1, beta2, epsilon } = hyper(config, "adam");
      made = new Adam(params(), { ...common, betas: [beta1, beta2], eps: epsilon, formula: "tfjs" });
      break;
    }
    case "adamax": {
      const { beta1, beta2, epsilon, decay: lrDecay } = hyper(config, "adamax");
      made = new Adamax(params(), { ...common, betas: [beta1, beta2], eps: epsilon, lrDecay, formula: "tfjs" });
      break;
    }
    case "adagrad": {
      const { initialAccumulatorValue, epsilon } = hyper(config, "adagrad");
      made = new Adagrad(params(), { ...common, initialAccumulatorValue, eps: epsilon, formula: "tfjs" });
      break;
    }
    case "adadelta": {
      const { rho, epsilon } = hyper(config, "adadelta");
      made = new Adadelta(params(), { ...common, rho, eps: epsilon, formula: "tfjs" });
      break;
    }
    case "rmsprop": {
      const { decay: alpha, momentum, epsilon, centered } = hyper(config, "rmsprop");
      made = new RMSprop(params(), { ...common, alpha, momentum, eps: epsilon, centered, formula: "tfjs" });
      break;
    }
    case "adamw": {
      const { betas, eps, weightDecay, amsgrad } = hyper(config, "adamw");
      made = new AdamW(params(weightDecay), { ...common, betas, eps, amsgrad });
      break;
    }
    case "radam": {
      const { betas, eps, weightDecay } = hyper(config, "radam");
      made = new RAdam(params(weightDecay), { ...common, betas, eps });
      break;
    }
    case "nadam": {
      const { betas, eps, weightDecay, momentumDecay } = hyper(config, "nadam");
      made = new NAdam(params(weightDecay), { ...common, betas, eps, momentumDecay });
      break;
    }
    case "lion": {
      const { betas, weightDecay } = hyper(config, "lion");
      made = new Lion(params(weightDecay), { ...common, betas });
      break;
    }
    case "ranger": {
      const { betas, eps, weightDecay, k, alpha } = hyper(config, "ranger");
      made = new Ranger(params(weightDecay), { ...common, betas, eps, k, alpha });
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
 * kernel call per step for all the variables that have a gradient, weights written back into the
 * variables. The variables stepped together share one main-entry optimizer (a parameter group
 * per GC mode, layout and decay), made again when that set of variables changes.
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
  /** The optimizer over the variables of the last step (undefined: every slot's state is parked). */
  #batch: Batch | undefined;

  constructor(config: EngineConfig) {
    this.#config = config;
  }

  apply(variables: readonly EngineVariable[], step: EngineStep): void {
    const present: { variable: EngineVariable; gradient: TfTensor }[] = [];
    variables.forEach((variable, i) => {
      const gradient = step.gradients[i];
      if (gradient != null) present.push({ variable, gradient });
    });
    for (const { variable, gradient } of present) checkGradient(variable, gradient);
    if (present.length === 0) return;
    if (new Set(present.map(({ variable }) => variable.name)).size < present.length) {
      // The same variable twice in one step: step it once per gradient, as tf.train does.
      for (const entry of present) this.apply([entry.variable], { ...step, gradients: [entry.gradient] });
      return;
    }
    const slots = present.map(({ variable }) => this.#slotFor(variable));
    const batch = this.#batchFor(slots, step.step - 1);
    for (let i = 0; i < slots.length; i++) readWeights(present[i].gradient, slots[i].grad.data);
    for (const group of batch.optimizer.paramGroups) group.lr = step.learningRate;
    batch.optimizer.step();
    for (const slot of batch.slots) {
      slot.steps++;
      slot.dataId = writeWeights(slot.variable, slot.value.data);
    }
  }

  getState(variables: readonly EngineVariable[]): NamedTensor[] {
    const names = SLOT_NAMES[this.#config.rule];
    const dict = this.#batch?.optimizer.stateDict();
    const out: NamedTensor[] = [];
    for (const variable of variables) {
      const slot = this.#slots.get(variable.name);
      if (slot === undefined) continue;
      const { entry, slow } = slot.batch !== undefined && dict !== undefined ? stateAt(dict, slot.index) : parkedState(slot);
      for (const [buffer, slotName] of Object.entries(names)) {
        const values = entry[buffer];
        if (values instanceof Float32Array) out.push({ name: `${variable.name}/${slotName}`, tensor: tfTensor(values, slot.variable.shape, "float32") });
      }
      for (const [scalar, slotName] of Object.entries(SCALAR_NAMES)) {
        const value = entry[scalar];
        if (typeof value === "number") out.push({ name: `${variable.name}/${slotName}`, tensor: tfTensor(value, [], "float32") });
      }
      if (this.#config.rule === "ranger") out.push({ name: `${variable.name}/slow`, tensor: tfTensor(slow ?? slot.value.data.slice(), slot.variable.shape, "float32") });
    }
    return out;
  }

  setState(variables: readonly EngineVariable[], state: readonly NamedTensor[]): void {
    const byName = new Map(state.map((entry) => [entry.name, entry.tensor]));
    const names = SLOT_NAMES[this.#config.rule];
    const slots = variables.map((variable) => this.#slotFor(variable));
    for (const slot of slots) this.#park(slot.batch);
    for (const slot of slots) {
      const entry: Parked["entry"] = { step: parkedState(slot).entry.step };
      for (const [buffer, slotName] of [...Object.entries(names), ...Object.entries(SCALAR_NAMES)]) {
        const tensor = byName.get(`${slot.name}/${slotName}`);
        if (tensor === undefined) continue;
        const values = tensor.dataSync() as Float32Array;
        entry[buffer] = buffer in SCALAR_NAMES ? values[0] : Float32Array.from(values);
      }
      const buffer = entry.momentumBuffer;
      const { view } = slot;
      if (this.#config.rule === "momentum" && buffer instanceof Float32Array && view.unitAxis !== null && this.#config.gc !== false) {
        // The SGD kernel centers a momentum buffer not known to be centered before a gc "update"
        // step; a buffer this package saved is centered already, and centering it again would move
        // the next steps by float32 rounding. Say so when its unit means are within rounding of 0.
        if (unitMeansVanish(buffer, view.shape, view.unitAxis)) entry.centered = coreLayout(view.unitAxis, view.shape.length);
      }
      // Ranger's slow weights: the saved ones, else the weights now (not those when its batch is made).
      const slow = this.#config.rule === "ranger" ? byName.get(`${slot.name}/slow`)?.dataSync() ?? slot.value.data : undefined;
      slot.parked = { entry, slow: slow === undefined ? undefined : Float32Array.from(slow as Float32Array) };
      slot.steps = -1;
    }
  }

  dispose(): void {
    this.#batch?.optimizer.dispose();
    this.#batch = undefined;
    for (const slot of this.#slots.values()) {
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
      this.#drop(slot);
      slot = undefined;
    }
    if (slot === undefined) {
      const view = coreView(variable);
      const value = new Tensor(view.shape);
      let grad: Tensor;
      try {
        grad = new Tensor(view.shape);
      } catch (error) {
        value.dispose();
        throw error;
      }
      const { name, unitAxis, decay } = variable;
      slot = { name, variable: variable.variable, unitAxis, decay, view, value, grad, dataId: {}, steps: 0, batch: undefined, index: -1, parked: undefined };
      this.#slots.set(name, slot);
    }
    if (slot.dataId !== slot.variable.dataId) {
      readWeights(slot.variable, slot.value.data);
      slot.dataId = slot.variable.dataId;
      if (this.#config.rule === "ranger" && slot.steps === 0) {
        // Ranger before its first step: the slow weights start as the weights read now.
        this.#park(slot.batch);
        if (slot.parked !== undefined) slot.parked.slow = undefined;
      }
    }
    return slot;
  }

  /**
   * The batch stepping exactly `slots` (the current one, or a new one holding their state), each
   * slot's state counting `steps` steps (bias corrections and Lookahead's rhythm follow the
   * optimizer's iterations, as tf.train's do, also for steps a variable had no gradient).
   */
  #batchFor(slots: readonly Slot[], steps: number): Batch {
    const current = this.#batch;
    const same = current !== undefined && current.slots.length === slots.length && slots.every((slot) => slot.batch === current);
    if (same && slots.every((slot) => slot.steps === steps)) return current;
    this.#park(current);
    const groups = coreGroups(this.#config, slots);
    const optimizer = makeCore(this.#config, groups);
    const ordered = groups.flatMap((group) => group.slots);
    try {
      const dict = optimizer.stateDict();
      const inner = isLookahead(dict) ? dict.inner : dict;
      ordered.forEach((slot, k) => {
        const { entry, slow } = this.#synced(slot, steps);
        inner.state[k] = entry as never;
        if (isLookahead(dict)) dict.slow[k] = slow ?? slot.value.data.slice();
      });
      inner.step = steps;
      if (isLookahead(dict)) dict.step = steps;
      optimizer.loadStateDict(dict as never);
    } catch (error) {
      optimizer.dispose();
      throw error;
    }
    const batch: Batch = { optimizer, slots: ordered };
    ordered.forEach((slot, k) => {
      slot.batch = batch;
      slot.index = k;
      slot.parked = undefined;
      slot.steps = steps;
    });
    this.#batch = batch;
    return batch;
  }

  /** A parked slot's state made to count `steps` steps (NAdam: its μ-product too). */
  #synced(slot: Slot, steps: number): Parked {
    const parked = parkedState(slot);
    if (slot.steps === steps) return parked;
    const entry: Parked["entry"] = { ...parked.entry, step: steps };
    if (this.#config.rule === "nadam" && steps > 0) {
      // The μ-product follows the optimizer's steps as the bias corrections do (steps this variable
      // had no gradient included), as the ops engine's does.
      const { betas, momentumDecay } = this.#config.hyperparameters as RuleHyperparameters["nadam"];
      entry.muProduct = nadamMuProduct(betas[0], momentumDecay, steps);
    }
    return { entry, slow: parked.slow };
  }

  /** Moves the state of `batch`'s slots out of its optimizer (parked on each slot) and frees it. */
  #park(batch: Batch | undefined): void {
    if (batch === undefined) return;
    const dict = batch.optimizer.stateDict();
    batch.slots.forEach((slot, k) => {
      slot.parked = stateAt(dict, k);
      slot.batch = undefined;
      slot.index = -1;
    });
    batch.optimizer.dispose();
    if (this.#batch === batch) this.#batch = undefined;
  }

  #drop(slot: Slot): void {
    this.#park(slot.batch);
    slot.value.dispose();
    slot.grad.dispose();
    this.#slots.delete(slot.name);
  }
}

/** A slot's parked state, or the rule's initial state when it has none yet (step 0, no buffers). */
function parkedState(slot: Slot): Parked {
  return slot.parked ?? { entry: { step: 0 }, slow: undefined };
}

/** Entry `k` of a checkpoint, with its slow weights when it is Lookahead's. */
function stateAt(dict: OptimizerStateDict<never> | LookaheadStateDict<never>, k: number): Parked {
  const inner = isLookahead(dict) ? dict.inner : dict;
  const entry = inner.state[k] as unknown as Parked["entry"];
  return { entry, slow: isLookahead(dict) ? (dict.slow[k] as Float32Array) : undefined };
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
