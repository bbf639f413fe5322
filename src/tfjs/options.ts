// The options every TF.js optimizer of this package takes (the last argument of each `train.*`
// factory), their checks, and the config: everything about an optimizer that can be serialized.
import { backend as tfBackend } from "@tensorflow/tfjs-core";
import { copyArray, readOptions } from "../args.js";
import { isBoolean, kindOf, oneOf, type OptionCheck } from "../checks.js";
import { betasCheck, gcCheck, halfOpenUnitInterval, nonNegative, positive, unitInterval } from "../optim/hyperparameters.js";
import type { RuleHyperparameters, RuleName, TfjsGcMode } from "./engines/engine.js";
import type { UnitSpec } from "./unit-view.js";

/** A learning-rate schedule: the rate of the step that follows `step` steps taken (0 first). */
export type LearningRateSchedule = (step: number) => number;

/** A learning rate: a number, or a schedule. */
export type TrainLearningRate = number | LearningRateSchedule;

/**
 * Picks a variable's unit axes: an axis (negative counts from the end) or `{ axis, span }` (units over
 * `span` consecutive axes); null: no GC for it; undefined: its layer's in `model`, else the last axis.
 */
export type UnitAxisFunction = (name: string, shape: readonly number[]) => UnitSpec | null | undefined;

/** Which engine steps the optimizer: `"auto"` picks the kernels on the cpu and wasm backends once `init()` has finished. */
export type EngineChoice = "auto" | "kernels" | "tfjs";

/** What the optimizer reads of a `tf.LayersModel`: its layers (and their weights). */
export interface ModelLike {
  readonly layers: readonly unknown[];
}

/** Options of every `train.*` optimizer. */
export interface TrainOptions {
  /** Where GC goes: the gradient before the rule (`"gradient"`, default), the whole step (`"update"`), or off (`false`). */
  gc?: TfjsGcMode;
  /** Centralize only rank > 3 variables (convolution kernels: the paper's GCC); default `false`. */
  convOnly?: boolean;
  /** The model whose variables are trained: each layer's kernels get their layer's unit axis. */
  model?: ModelLike;
  /** Overrides the unit axis per variable (`null`: no GC); default: from `model`, else the last axis. */
  unitAxis?: UnitAxisFunction;
  /** Variables not decayed: names containing one of these strings, or matching one of these RegExps (Keras's option). */
  excludeFromWeightDecay?: readonly (string | RegExp)[];
  /** Each gradient rescaled to an L2 norm of at most this (Keras's clipnorm). */
  clipNorm?: number;
  /** Each gradient element clipped to [−clipValue, clipValue] (Keras's clipvalue). */
  clipValue?: number;
  /** All gradients rescaled together to a global L2 norm of at most this (Keras's global_clipnorm). */
  globalClipNorm?: number;
  /** `"auto"` (default), `"kernels"` (needs `init()`: cpu and wasm backends) or `"tfjs"` (TF.js ops, every backend). */
  engine?: EngineChoice;
}

/** Options of `train.adamw`: AdamW's hyperparameters (main entry's names and defaults) and the common options. */
export interface AdamWTrainOptions extends TrainOptions {
  /** [β1, β2]; default [0.9, 0.999]. */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay; default 1e-2. */
  weightDecay?: number;
  /** Default false. */
  amsgrad?: boolean;
}

/** Options of `train.radam`. */
export interface RAdamTrainOptions extends TrainOptions {
  /** Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay?: number;
}

/** Options of `train.nadam`. */
export interface NAdamTrainOptions extends RAdamTrainOptions {
  /** Default 4e-3. */
  momentumDecay?: number;
}

/** Options of `train.lion`. */
export interface LionTrainOptions extends TrainOptions {
  /** Default [0.9, 0.99]. */
  betas?: [number, number];
  /** Decoupled weight decay; default 0. */
  weightDecay?: number;
}

/** Options of `train.ranger`: RAdam's (Ranger's defaults: betas [0.95, 0.999], eps 1e-5) and Lookahead's. */
export interface RangerTrainOptions extends RAdamTrainOptions {
  /** Steps between synchronizations; default 6. */
  k?: number;
  /** How far the slow weights move towards the fast ones; default 0.5. */
  alpha?: number;
}

/**
 * Everything about an optimizer that can be serialized (what `getConfig` returns). A schedule,
 * a model, a unitAxis function and RegExps cannot: the optimizer keeps them beside the config.
 */
export interface TrainConfig {
  readonly rule: RuleName;
  /** The learning rate; null when it is a schedule. */
  readonly learningRate: number | null;
  readonly hyperparameters: Readonly<RuleHyperparameters[RuleName]>;
  readonly gc: TfjsGcMode;
  readonly convOnly: boolean;
  /** The strings of `excludeFromWeightDecay` (its RegExps are kept beside the config). */
  readonly excludeFromWeightDecay: readonly string[];
  readonly clipNorm: number | null;
  readonly clipValue: number | null;
  readonly globalClipNorm: number | null;
  readonly engine: EngineChoice;
}

/** What an optimizer holds beside its config: the values that cannot be serialized. */
export interface TrainExtras {
  readonly schedule?: LearningRateSchedule;
  readonly model?: ModelLike;
  readonly unitAxis?: UnitAxisFunction;
  /** The RegExps of `excludeFromWeightDecay`. */
  readonly excludePatterns?: readonly RegExp[];
}

/** The rules with a weight decay that `excludeFromWeightDecay` can turn off. */
const DECAYING: readonly RuleName[] = ["adamw", "radam", "nadam", "lion", "ranger"];

const positiveNumber: OptionCheck = (value, caller, name) => positive(value, caller, name);

const functionCheck: OptionCheck = (value, caller, name) => {
  if (typeof value !== "function") throw new TypeError(`${caller}: ${name} must be a function (name, shape) => number | null, got ${kindOf(value)}`);
};

const modelCheck: OptionCheck = (value, caller, name) => {
  const layers = value !== null && typeof value === "object" ? (value as { layers?: unknown }).layers : undefined;
  if (!Array.isArray(layers)) throw new TypeError(`${caller}: ${name} must be a tf.LayersModel (with layers), got ${kindOf(value)}`);
};

const excludeCheck: OptionCheck = (value, caller, name) => {
  const list = copyArray(value, caller, name);
  if (list === undefined) throw new TypeError(`${caller}: ${name} must be an array of strings or RegExps, got ${kindOf(value)}`);
  list.forEach((item, i) => {
    if (typeof item !== "string" && !(item instanceof RegExp)) {
      throw new TypeError(`${caller}: ${name}[${i}] must be a string or a RegExp, got ${kindOf(item)}`);
    }
  });
};

/** Checks of the common options. */
const COMMON_CHECKS: Record<keyof TrainOptions, OptionCheck> = {
  gc: gcCheck,
  convOnly: isBoolean,
  model: modelCheck,
  unitAxis: functionCheck,
  excludeFromWeightDecay: excludeCheck,
  clipNorm: positiveNumber,
  clipValue: positiveNumber,
  globalClipNorm: positiveNumber,
  engine: oneOf("auto", "kernels", "tfjs"),
};

/**
 * The common options, checked, and the rule's own options (checked by `ruleChecks`), read once
 * (own enumerable properties); an unknown key is a TypeError, a bad value a TypeError or RangeError.
 *
 * @example
 * readTrainOptions({ gc: "update", weightDecay: 0.1 }, "adamw", "train.adamw", { weightDecay: nonNegative });
 * // { config: { gc: "update", convOnly: false, … }, extras: { … }, own: { weightDecay: 0.1 } }
 */
export function readTrainOptions(
  options: unknown,
  rule: RuleName,
  caller: string,
  ruleChecks: Record<string, OptionCheck> = {},
): { config: Omit<TrainConfig, "rule" | "learningRate" | "hyperparameters">; extras: TrainExtras; own: Record<string, unknown> } {
  const checks: Record<string, OptionCheck> = { ...COMMON_CHECKS, ...ruleChecks };
  const record = readOptions(options, Object.keys(checks), caller);
  for (const key in record) {
    if (record[key] === undefined) delete record[key];
    else checks[key](record[key], caller, `options.${key}`);
  }
  const clips = ["clipNorm", "clipValue", "globalClipNorm"].filter((key) => key in record);
  if (clips.length > 1) {
    throw new RangeError(`${caller}: only one of options.clipNorm, options.clipValue and options.globalClipNorm can be set (as Keras), got ${clips.join(" and ")}`);
  }
  const exclude = record.excludeFromWeightDecay === undefined ? [] : (copyArray(record.excludeFromWeightDecay, caller, "options.excludeFromWeightDecay") as (string | RegExp)[]);
  if (exclude.length > 0 && !DECAYING.includes(rule)) {
    throw new TypeError(`${caller}: options.excludeFromWeightDecay applies to optimizers with a weight decay (train.${DECAYING.join(", train.")}); ${caller} has none`);
  }
  const own: Record<string, unknown> = {};
  for (const key of Object.keys(ruleChecks)) if (key in record) own[key] = record[key];
  const engine = (record.engine ?? "auto") as EngineChoice;
  return {
    config: {
      gc: (record.gc ?? "gradient") as TfjsGcMode,
      convOnly: (record.convOnly ?? false) as boolean,
      excludeFromWeightDecay: exclude.filter((item): item is string => typeof item === "string"),
      clipNorm: (record.clipNorm ?? null) as number | null,
      clipValue: (record.clipValue ?? null) as number | null,
      globalClipNorm: (record.globalClipNorm ?? null) as number | null,
      engine,
    },
    extras: {
      model: record.model as ModelLike | undefined,
      unitAxis: record.unitAxis as UnitAxisFunction | undefined,
      excludePatterns: exclude.filter((item): item is RegExp => item instanceof RegExp),
    },
    own,
  };
}

/**
 * A learning rate argument: a number ≥ 0 (finite in float32) or a schedule function; `fallback`
 * when undefined (the factory's default).
 *
 * @example
 * readLearningRate(undefined, "train.adam", 0.001); // { learningRate: 0.001 }
 * readLearningRate((t) => 0.1 / (t + 1), "train.sgd"); // { learningRate: null, schedule: [Function] }
 */
export function readLearningRate(value: unknown, caller: string, fallback?: number): { learningRate: number | null; schedule?: LearningRateSchedule } {
  if (value === undefined && fallback !== undefined) return { learningRate: fallback };
  if (typeof value === "function") return { learningRate: null, schedule: value as LearningRateSchedule };
  if (typeof value !== "number") throw new TypeError(`${caller}: learningRate must be a number or a schedule (step) => number, got ${kindOf(value)}`);
  nonNegative(value, caller, "learningRate");
  return { learningRate: value };
}

/**
 * A positional argument: its default when undefined, else checked.
 *
 * @example
 * positional(undefined, 0.9, halfOpenUnitInterval, "train.adam", "beta1"); // 0.9
 * positional(1, 0.9, halfOpenUnitInterval, "train.adam", "beta1");         // RangeError: train.adam: beta1 must be in [0, 1), got 1
 */
export function positional<T>(value: unknown, fallback: T, check: OptionCheck, caller: string, name: string): T {
  if (value === undefined) return fallback;
  check(value, caller, name);
  return value as T;
}

/**
 * tf.train's epsilon: null or undefined means the backend's (`tf.backend().epsilon()`: 1e-7 on
 * float32 backends), else a number > 0.
 *
 * @example
 * epsilonArgument(null, "train.adam"); // 1e-7 on the cpu backend
 */
export function epsilonArgument(value: unknown, caller: string): number {
  if (value === null || value === undefined) return tfBackend().epsilon();
  positive(value, caller, "epsilon");
  return value as number;
}

export { betasCheck, halfOpenUnitInterval, isBoolean, nonNegative, positive, unitInterval };
