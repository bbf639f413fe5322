// The TF.js optimizer of this package: a tf.Optimizer (model.compile, model.fit, minimize,
// applyGradients) that clips, picks each variable's unit axis and decay, evaluates the learning
// rate, and hands the step to an engine (the fused kernels, or TF.js ops).
import {
  add,
  clipByValue,
  div,
  dispose,
  engine as tfEngine,
  getBackend,
  maximum,
  mul,
  type NamedTensorMap,
  type serialization,
  Optimizer,
  scalar,
  sqrt,
  square,
  sum,
  type Tensor,
  tidy,
  type Variable,
} from "@tensorflow/tfjs-core";
import { backend as kernelsBackend } from "../index.js";
import { kindOf } from "../checks.js";
import { nonNegative } from "../optim/hyperparameters.js";
import type { Engine, EngineConfig, EngineVariable, NamedTensor } from "./engines/engine.js";
import { createKernelsEngine } from "./engines/kernels.js";
import { createOpsEngine } from "./engines/ops.js";
import { layerUnitAxes } from "./units.js";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { resolveUnitSpec, type UnitAxes, type UnitSpec } from "./unit-view.js";
import type { TrainConfig, TrainExtras } from "./options.js";
import { beforeStep, loadOptimizerWeights, optimizerConfig, optimizerFromConfig, optimizerWeights, releaseWeights, restoredVariable } from "./serialization.js";

/** The backends whose tensors the kernels engine reads and writes cheaply (its data in CPU memory). */
const KERNEL_BACKENDS = ["cpu", "wasm"];

/**
 * True once `init()` (or `initSync()`) of gradient-centralization has finished.
 *
 * @example
 * kernelsReady(); // false
 * await init();
 * kernelsReady(); // true
 */
export function kernelsReady(): boolean {
  try {
    kernelsBackend();
    return true;
  } catch {
    return false;
  }
}

/**
 * The error of an optimizer that needs the kernels before `init()` finished.
 *
 * @example
 * throw notInitialized("train.adam"); // TypeError: train.adam: options.engine "kernels" needs the WebAssembly kernels: await init() …
 */
export function notInitialized(caller: string): TypeError {
  return new TypeError(`${caller}: options.engine "kernels" needs the WebAssembly kernels: await init() (or call initSync()) from gradient-centralization/tfjs first`);
}

/**
 * A TF.js optimizer with Gradient Centralization fused into its rule. Made by the `train.*`
 * factories (`train.adam(1e-3, undefined, undefined, undefined, { gc: "gradient" })`). Per
 * `applyGradients` (hence `minimize` and `model.fit`), for each variable with a gradient:
 *   g ← clip(g) (clipValue, clipNorm or globalClipNorm, as Keras);
 *   gc "gradient": g ← P g, P removing each output unit's mean, then the rule's update;
 *   gc "update": the rule's update Δ, then Δ ← P Δ (each unit's weight mean stays fixed).
 * The learning rate of step t (0 first) is `learningRate` or `schedule(t)`; `iterations` counts
 * the steps as tf.train's optimizers do. Null gradients leave their variable and state alone.
 *
 * @example
 * const optimizer = train.adam(1e-3, 0.9, 0.999, null, { gc: "gradient", model });
 * model.compile({ optimizer, loss: "categoricalCrossentropy" });
 * await model.fit(xs, ys, { epochs: 5 });
 */
export class GcOptimizer extends Optimizer {
  /** The registered class name (each rule's subclass has its own). */
  static get className(): string {
    return "GcOptimizer";
  }

  /** Everything about this optimizer that can be serialized (a plain, frozen object). */
  readonly config: Readonly<TrainConfig>;
  /** What the optimizer keeps beside its config: the schedule, model, unitAxis function, RegExps. */
  readonly extras: Readonly<TrainExtras>;
  /** The learning rate: a number, or the schedule function. */
  readonly learningRate: number | ((step: number) => number);
  /** The name in messages (`train.adam`). */
  readonly #caller: string;
  #engine: Engine | undefined;
  readonly #variables = new Map<string, EngineVariable>();
  /** The unit axes of `extras.model`'s weights (units.ts), read at first need. */
  #modelAxes: Map<string, UnitSpec | null> | undefined;

  /**
   * Made by the `train.*` factories from a checked config. When `config.engine` is `"kernels"`,
   * `init()` must have finished.
   */
  constructor(config: TrainConfig, extras: TrainExtras = {}, caller = `train.${config.rule}`) {
    super();
    if (config.engine === "kernels" && !kernelsReady()) throw notInitialized(caller);
    this.config = Object.freeze({ ...config });
    this.extras = Object.freeze({ ...extras });
    this.learningRate = extras.schedule ?? (config.learningRate as number);
    this.#caller = caller;
  }

  /** The engine stepping this optimizer (chosen at its first use): `"kernels"` or `"tfjs"`; undefined before. */
  get engineKind(): "kernels" | "tfjs" | undefined {
    return this.#engine?.kind;
  }

  /**
   * One step: `variableGradients` as a `{ [variableName]: gradient }` map or a `{ name, tensor }[]`
   * list; null gradients are skipped. Every tensor it makes is disposed.
   */
  override applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const caller = `${this.#caller}: applyGradients`;
    const entries = gradientEntries(variableGradients, caller);
    beforeStep(this, entries.map(({ name }) => name), caller);
    const variables = entries.map(({ name }) => this.#variable(name, caller));
    const learningRate = this.#learningRateNow(caller);
    const engine = this.#engineNow();
    const gradients = entries.map(({ gradient }) => gradient);
    const clipped = this.#clip(gradients);
    try {
      engine.apply(variables, { gradients: clipped, learningRate, step: this.iterations + 1 });
    } finally {
      dispose(clipped.filter((g, i): g is Tensor => g !== null && g !== gradients[i]));
    }
    this.incrementIterations();
  }

  /**
   * The state (package-internal: serialization reads it): new tensors named
   * `${variable.name}/${slot}` (tf.train's slot names), for the variables stepped so far.
   */
  getState(): NamedTensor[] {
    return this.#engine === undefined ? [] : this.#engine.getState([...this.#variables.values()]);
  }

  /** Replaces the state from tensors named as `getState` names them (package-internal). */
  setState(state: readonly NamedTensor[]): void {
    const caller = `${this.#caller}: setState`;
    const names = [...new Set(state.map(({ name }) => name.slice(0, Math.max(0, name.lastIndexOf("/")))))];
    const variables = names.map((name) => this.#variable(name, caller));
    this.#engineNow().setState(variables, state);
  }

  /** The variables stepped so far, in the order first stepped (package-internal: serialization reads them). */
  get steppedVariables(): readonly EngineVariable[] {
    return [...this.#variables.values()];
  }

  /** The config as plain JSON, with each stepped variable's unit axis and decay (serialization.ts). */
  override getConfig(): serialization.ConfigDict {
    return optimizerConfig(this);
  }

  /** A new optimizer of `cls` from a config `getConfig` made (what `tf.loadLayersModel` calls; serialization.ts). */
  static override fromConfig<T extends serialization.Serializable>(cls: serialization.SerializableConstructor<T>, config: serialization.ConfigDict): T {
    return optimizerFromConfig(cls as never, config) as unknown as T;
  }

  /** `iter` then the state `${variable.name}/${slot}`, as new tensors freed by the next call or `dispose()` (serialization.ts). */
  override async getWeights(): Promise<NamedTensor[]> {
    return optimizerWeights(this, this.iterations);
  }

  /** Reads `iter` and the state; the state reaches the engine at the next step (serialization.ts). */
  override async setWeights(weights: NamedTensor[]): Promise<void> {
    this.iterations_ = await loadOptimizerWeights(this, weights);
  }

  /**
   * Package-internal (serialization.ts, `restoreOptimizer`): gives a loaded optimizer back what a
   * saved model cannot hold (a schedule, a model, functions, RegExps) and the config fields they change.
   */
  restoreExtras(extras: TrainExtras, config: Partial<Pick<TrainConfig, "learningRate" | "excludeFromWeightDecay">>): void {
    const self = this as { -readonly [K in "config" | "extras" | "learningRate"]: GcOptimizer[K] };
    self.config = Object.freeze({ ...this.config, ...config });
    self.extras = Object.freeze({ ...extras });
    self.learningRate = this.extras.schedule ?? (this.config.learningRate as number);
  }

  /** Frees the state (linear memory or tensors). */
  override dispose(): void {
    releaseWeights(this);
    this.#engine?.dispose();
    this.#engine = undefined;
    this.#variables.clear();
    super.dispose();
  }

  #engineNow(): Engine {
    if (this.#engine !== undefined) return this.#engine;
    const config: EngineConfig = { rule: this.config.rule, hyperparameters: this.config.hyperparameters, gc: this.config.gc };
    const choice = this.config.engine;
    if (choice === "kernels" || (choice === "auto" && kernelsReady() && KERNEL_BACKENDS.includes(getBackend()))) {
      if (!kernelsReady()) throw notInitialized(this.#caller);
      this.#engine = createKernelsEngine(config);
    } else {
      this.#engine = createOpsEngine(config);
    }
    return this.#engine;
  }

  /** The variable named `name`, with its unit axis and decay (worked out once per variable). */
  #variable(name: string, caller: string): EngineVariable {
    const variable = tfEngine().registeredVariables[name] as Variable | undefined;
    if (variable === undefined) throw new TypeError(`${caller}: no variable is named ${JSON.stringify(name)}`);
    const known = this.#variables.get(name);
    if (known !== undefined && known.variable === variable) return known;
    const saved = restoredVariable(this, name); // loaded from a saved model: its saved axes and decay
    const axes = saved?.unitAxis !== undefined ? (saved.unitAxis === null ? null : { axis: saved.unitAxis, span: saved.unitSpan ?? 1 }) : this.#unitAxes(name, variable.shape);
    const made: EngineVariable = { name, variable, unitAxis: axes?.axis ?? null, unitSpan: axes?.span ?? 1, decay: saved?.decay ?? this.#decays(name) };
    this.#variables.set(name, made);
    return made;
  }

  /**
   * The axes GC centers `name` over: `unitAxis(name, shape)` when it answers (an axis or
   * `{ axis, span }`; undefined: ask on), else its layer's (with `model`: units.ts's table, read
   * again when a name is new to it), else the last axis; null for rank ≤ 1 (rank ≤ 3 with
   * `convOnly`), when GC is off, and when `unitAxis` or the layer says so.
   */
  #unitAxes(name: string, shape: readonly number[]): UnitAxes | null {
    const rank = shape.length;
    if (this.config.gc === false || rank <= (this.config.convOnly ? 3 : 1)) return null;
    const { unitAxis, model } = this.extras;
    const axis: unknown = unitAxis?.(name, shape);
    if (axis === null) return null;
    const what = `${this.#caller}: options.unitAxis(${JSON.stringify(name)}, [${shape.join(", ")}])`;
    if (typeof axis === "object") return resolveUnitSpec(axis, rank, what, "result");
    if (axis !== undefined) {
      if (typeof axis !== "number") throw new TypeError(`${what} must return an integer, { axis, span } or null, got ${kindOf(axis)}`);
      if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new RangeError(`${what} must return an integer in [${-rank}, ${rank}) or null, got ${axis}`);
      return { axis: axis < 0 ? axis + rank : axis, span: 1 };
    }
    if (model !== undefined) {
      if (!this.#modelAxes?.has(name)) this.#modelAxes = layerUnitAxes(model as LayersModel);
      const spec = this.#modelAxes.get(name);
      if (spec === null) return null;
      if (spec !== undefined) return resolveUnitSpec(spec, rank, this.#caller, `the unit axis of ${JSON.stringify(name)}`);
    }
    return { axis: rank - 1, span: 1 };
  }

  /** False when `excludeFromWeightDecay` names `name` (a substring, or a RegExp that matches). */
  #decays(name: string): boolean {
    if (this.config.excludeFromWeightDecay.some((part) => name.includes(part))) return false;
    return !(this.extras.excludePatterns ?? []).some((pattern) => {
      pattern.lastIndex = 0;
      return pattern.test(name);
    });
  }

  #learningRateNow(caller: string): number {
    const { schedule } = this.extras;
    if (schedule === undefined) return this.config.learningRate as number;
    const step = this.iterations;
    const value: unknown = schedule(step);
    nonNegative(value, caller, `learningRate(${step})`);
    return value as number;
  }

  /** The gradients clipped as the options say (new tensors where clipped; the same ones where not). */
  #clip(gradients: readonly (Tensor | null)[]): (Tensor | null)[] {
    const { clipValue, clipNorm, globalClipNorm } = this.config;
    if (clipValue !== null) return gradients.map((g) => (g === null ? null : clipByValue(g, -clipValue, clipValue)));
    if (clipNorm !== null) return gradients.map((g) => (g === null ? null : tidy(() => scaleToNorm(g, sqrt(sum(square(g))), clipNorm))));
    if (globalClipNorm !== null) {
      const present = gradients.filter((g): g is Tensor => g !== null);
      if (present.length === 0) return [...gradients];
      const norm = tidy(() => sqrt(present.map((g) => sum(square(g))).reduce((a, b) => add(a, b))));
      try {
        return gradients.map((g) => (g === null ? null : tidy(() => scaleToNorm(g, norm, globalClipNorm))));
      } finally {
        norm.dispose();
      }
    }
    return [...gradients];
  }
}

/** `g · clip / max(norm, clip)`: tf.clip_by_norm's (and clip_by_global_norm's) rescaling. */
function scaleToNorm(g: Tensor, norm: Tensor, clip: number): Tensor {
  const limit = scalar(clip);
  return mul(g, div(limit, maximum(norm, limit)));
}

/** The gradients of a map or a list, in order, null kept (TF.js skips them). */
function gradientEntries(value: NamedTensorMap | NamedTensor[], caller: string): { name: string; gradient: Tensor | null }[] {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`${caller}: gradients must be a { name: tensor } map or a { name, tensor }[] list, got ${kindOf(value)}`);
  }
  if (Array.isArray(value)) {
    return value.map((entry, i) => {
      if (entry === null || typeof entry !== "object" || typeof entry.name !== "string") {
        throw new TypeError(`${caller}: gradients[${i}] must be { name, tensor }, got ${kindOf(entry)}`);
      }
      return { name: entry.name, gradient: entry.tensor ?? null };
    });
  }
  return Object.keys(value).map((name) => ({ name, gradient: value[name] ?? null }));
}
