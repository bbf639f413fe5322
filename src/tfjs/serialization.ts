// Saving and loading the TF.js optimizers with a model (`model.save(url, { includeOptimizer: true })`,
// `tf.loadLayersModel(url)`). tfjs-layers saves `{ class_name: optimizer.getClassName(), config:
// optimizer.getConfig() }` and the tensors of `optimizer.getWeights()`; loading looks the class
// name up in tf.serialization's map (filled by `registerClass`), calls `cls.fromConfig(cls, config)`
// with the config's string values camel-cased (`"dense_Dense1/bias"` → `"denseDense1/bias"`: only
// a `name` key keeps its string), compiles, loads the model's weights, then calls `setWeights`.
//
// What is saved: the config (rule, hyperparameters, gc, convOnly, clipping, engine, the strings of
// excludeFromWeightDecay) and, per variable stepped so far, its unit axis and whether it decays —
// what the `model`, a `unitAxis` function and RegExps decided, so the reloaded optimizer needs none
// of them. A schedule function cannot be saved: `restoreOptimizer` gives it back. The weights:
// `iter` (the step count) first, then the state, `${variable.name}/${slot}` (tf.train's slot names).
import { engine as tfEngine, serialization, tensor, type Tensor } from "@tensorflow/tfjs-core";
import { readOptions } from "../args.js";
import { backend as kernelsBackend } from "../index.js";
import { isBoolean, kindOf, type OptionCheck } from "../checks.js";
import { betasCheck, halfOpenUnitInterval, nonNegative, positive, unitInterval } from "../optim/hyperparameters.js";
import type { NamedTensor, RuleName } from "./engines/engine.js";
import type { GcOptimizer } from "./optimizer.js";
import { type LearningRateSchedule, type ModelLike, readTrainOptions, type TrainConfig, type UnitAxisFunction } from "./options.js";

/** The class name each rule's optimizer is saved under (TF.js's own are "Adam", "SGD", …: no clash). */
export const CLASS_NAMES: Readonly<Record<RuleName, string>> = {
  sgd: "GcSGD",
  momentum: "GcMomentum",
  adam: "GcAdam",
  adamax: "GcAdamax",
  adagrad: "GcAdagrad",
  adadelta: "GcAdadelta",
  rmsprop: "GcRMSProp",
  adamw: "GcAdamW",
  radam: "GcRAdam",
  nadam: "GcNAdam",
  lion: "GcLion",
  ranger: "GcRanger",
};

/**
 * A variable as saved in the config: its name then, its shape, its unit axes (`unitAxis`, null: no
 * GC, and `unitSpan` axes from it: see EngineVariable), whether it decays.
 */
export interface SavedVariable {
  readonly name: string;
  readonly shape: readonly number[];
  readonly unitAxis: number | null;
  readonly unitSpan: number;
  readonly decay: boolean;
}

/** One state tensor, copied out of the tensors `setWeights` was given (tfjs-layers disposes them after). */
interface SavedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** What a loaded optimizer holds until its first step tells which variables it trains. */
interface Restoring {
  /** From the config: the variables as they were saved, in the order first stepped. */
  variables?: readonly SavedVariable[];
  /** From setWeights: the state, named after the saved variables. */
  state?: readonly SavedTensor[];
  /** After the first step: the current name of each saved variable → its saved axis and decay. */
  byName?: Map<string, { unitAxis: number | null; unitSpan: number; decay: boolean }>;
  /** `restoreOptimizer` gave `unitAxis` again: the saved axes are not used. */
  ownAxes?: boolean;
  /** `restoreOptimizer` gave `excludeFromWeightDecay` again: the saved decay flags are not used. */
  ownDecay?: boolean;
}

const restoring = new WeakMap<GcOptimizer, Restoring>();
/** The tensors of the last `getWeights`, disposed by the next one (tfjs-layers' save never disposes them). */
const lastWeights = new WeakMap<GcOptimizer, NamedTensor[]>();

/** Each rule's hyperparameters and their checks: a loaded config must have exactly these. */
const HYPERPARAMETER_CHECKS: Readonly<Record<RuleName, Readonly<Record<string, OptionCheck>>>> = (() => {
  const integerAtLeastOne: OptionCheck = (value, caller, name) => {
    if (typeof value !== "number") throw new TypeError(`${caller}: ${name} must be a number, got ${kindOf(value)}`);
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${caller}: ${name} must be an integer ≥ 1, got ${value}`);
  };
  const adamLike = { beta1: halfOpenUnitInterval, beta2: halfOpenUnitInterval, epsilon: positive };
  const mainEntry = { betas: betasCheck, eps: positive, weightDecay: nonNegative };
  return {
    sgd: {},
    momentum: { momentum: nonNegative, useNesterov: isBoolean },
    adam: adamLike,
    adamax: { ...adamLike, decay: nonNegative },
    adagrad: { initialAccumulatorValue: nonNegative, epsilon: positive },
    adadelta: { rho: unitInterval, epsilon: positive },
    rmsprop: { decay: unitInterval, momentum: nonNegative, epsilon: positive, centered: isBoolean },
    adamw: { ...mainEntry, amsgrad: isBoolean },
    radam: mainEntry,
    nadam: { ...mainEntry, momentumDecay: nonNegative },
    lion: { betas: betasCheck, weightDecay: nonNegative },
    ranger: { ...mainEntry, k: integerAtLeastOne, alpha: unitInterval },
  };
})();

/**
 * Registers each optimizer class with `tf.serialization.registerClass` under its `className`
 * ("GcAdam", …), so that `tf.loadLayersModel` finds it. Done by the tfjs entry at import.
 *
 * @example
 * registerOptimizerClasses(Object.values(RULE_CLASSES));
 * tf.serialization.SerializationMap.getMap().classNameMap.GcAdam; // [GcAdam, GcAdam.fromConfig]
 */
export function registerOptimizerClasses(classes: readonly (new (...args: never[]) => GcOptimizer)[]): void {
  for (const cls of classes) serialization.registerClass(cls as unknown as serialization.SerializableConstructor<GcOptimizer>);
}

/**
 * `getConfig()`: the optimizer's config as plain JSON, with the variables stepped so far (or, not
 * stepped since loading, those it was saved with). Strings that tfjs-layers would camel-case on
 * loading (variable names) are saved under a `name` key.
 *
 * @example
 * train.adam(1e-3).getConfig();
 * // { rule: "adam", learningRate: 0.001, hyperparameters: { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
 * //   gc: "gradient", convOnly: false, excludeFromWeightDecay: [], clipNorm: null, clipValue: null,
 * //   globalClipNorm: null, engine: "auto", variables: [] }
 */
export function optimizerConfig(optimizer: GcOptimizer): serialization.ConfigDict {
  const { rule, learningRate, hyperparameters, gc, convOnly, excludeFromWeightDecay, clipNorm, clipValue, globalClipNorm, engine } = optimizer.config;
  const stepped = optimizer.steppedVariables.map(({ name, variable, unitAxis, unitSpan = 1, decay }) => ({ name, shape: [...variable.shape], unitAxis, unitSpan, decay }));
  const variables: readonly SavedVariable[] = stepped.length > 0 ? stepped : (restoring.get(optimizer)?.variables ?? []);
  const config = {
    rule,
    learningRate,
    hyperparameters,
    gc,
    convOnly,
    excludeFromWeightDecay: excludeFromWeightDecay.map((name) => ({ name })),
    clipNorm,
    clipValue,
    globalClipNorm,
    engine,
    variables,
  };
  return JSON.parse(JSON.stringify(config)) as serialization.ConfigDict;
}

/**
 * `fromConfig(cls, config)`: a new optimizer of `cls` from a config `getConfig` made (as saved, or
 * as tfjs-layers hands it back). The config is checked as the factories check their arguments:
 * a TypeError or RangeError names `${className}.fromConfig` and the field.
 *
 * @example
 * const copy = GcAdam.fromConfig(GcAdam, optimizer.getConfig());
 */
export function optimizerFromConfig<T extends GcOptimizer>(
  cls: serialization.SerializableConstructor<T> & (new (config: TrainConfig, extras: object, caller: string) => T),
  config: serialization.ConfigDict,
): T {
  const caller = `${cls.className}.fromConfig`;
  const record = readOptions(
    config,
    ["rule", "learningRate", "hyperparameters", "gc", "convOnly", "excludeFromWeightDecay", "clipNorm", "clipValue", "globalClipNorm", "engine", "variables", "customObjects"],
    caller,
    "config",
    "a field of a saved optimizer",
  );
  const rule = record.rule as RuleName;
  if (typeof rule !== "string" || !(rule in CLASS_NAMES)) {
    throw new TypeError(`${caller}: config.rule must be one of ${Object.keys(CLASS_NAMES).join(", ")}, got ${kindOf(rule)}`);
  }
  if (CLASS_NAMES[rule] !== cls.className) throw new TypeError(`${caller}: config.rule "${rule}" is saved by ${CLASS_NAMES[rule]}, not ${cls.className}`);
  const learningRate = record.learningRate;
  if (learningRate !== null) nonNegative(learningRate, caller, "config.learningRate");
  const hyperparameters = readHyperparameters(rule, record.hyperparameters, caller);
  const exclude = readNamedList(record.excludeFromWeightDecay, caller, "config.excludeFromWeightDecay");
  const options: Record<string, unknown> = { gc: record.gc, convOnly: record.convOnly, engine: record.engine };
  for (const key of ["clipNorm", "clipValue", "globalClipNorm"]) if (record[key] !== null) options[key] = record[key];
  if (exclude.length > 0) options.excludeFromWeightDecay = exclude;
  const { config: common } = readTrainOptions(options, rule, caller);
  const variables = readSavedVariables(record.variables, caller);
  if (common.engine === "kernels" && !kernelsReady()) {
    throw new TypeError(`${caller}: config.engine "kernels" needs the WebAssembly kernels: await init() (or call initSync()) from gradient-centralization/tfjs before loading`);
  }
  // Its messages name the factory, as those of the optimizer that was saved did.
  const optimizer = new cls({ ...common, rule, learningRate: learningRate as number | null, hyperparameters } as TrainConfig, {}, `train.${rule}`);
  if (variables.length > 0) restoring.set(optimizer, { variables });
  return optimizer;
}

/**
 * `getWeights()`: `iter` (the step count, int32) first, then the state as new tensors named
 * `${variable.name}/${slot}`; not stepped since loading, the loaded state as it was saved. The
 * tensors stay valid until the next `getWeights()` or `dispose()`, which free them.
 *
 * @example
 * const [iter, ...state] = await optimizer.getWeights(); // iter.name === "iter"; state[0].name === "dense_Dense1/kernel/m"
 */
export function optimizerWeights(optimizer: GcOptimizer, iterations: number): NamedTensor[] {
  releaseWeights(optimizer);
  const pending = restoring.get(optimizer)?.state;
  const state = pending !== undefined ? pending.map(({ name, shape, values }) => ({ name, tensor: tensor(values, shape as number[], "float32") })) : optimizer.getState();
  const weights = [{ name: "iter", tensor: tensor(iterations, [], "int32") }, ...state];
  lastWeights.set(optimizer, weights);
  return weights;
}

/**
 * Frees the tensors the last `getWeights` returned (the optimizer's `dispose` calls it).
 *
 * @example
 * const weights = optimizerWeights(optimizer, optimizer.iterations);
 * releaseWeights(optimizer); // weights[i].tensor.isDisposed === true
 */
export function releaseWeights(optimizer: GcOptimizer): void {
  for (const { tensor } of lastWeights.get(optimizer) ?? []) tensor.dispose();
  lastWeights.delete(optimizer);
}

/**
 * `setWeights(weights)`: reads `iter` and copies the state (the tensors may be disposed right
 * after, as tfjs-layers does). The state is handed to the engine at the next step, when the
 * optimizer knows its variables: by name when every saved variable is there under its saved name,
 * else by position (a model loaded while the saved one still exists gets `dense_Dense1/kernel_1`
 * for `dense_Dense1/kernel`), the shapes checked. Returns the step count.
 *
 * @example
 * await optimizer.setWeights(await other.getWeights());
 */
export async function loadOptimizerWeights(optimizer: GcOptimizer, weights: readonly NamedTensor[]): Promise<number> {
  const caller = `${optimizer.getClassName()}.setWeights`;
  if (!Array.isArray(weights)) throw new TypeError(`${caller}: weights must be a { name, tensor }[] list, got ${kindOf(weights)}`);
  const [iter, ...rest] = weights;
  const { name: iterName, tensor: iterTensor } = (iter ?? {}) as Partial<NamedTensor>;
  if (iterName !== "iter" || !isTensor(iterTensor) || iterTensor.size !== 1) {
    throw new TypeError(`${caller}: weights[0] must be the step count { name: "iter", tensor: a scalar }, got ${kindOf(iterName ?? iter)}`);
  }
  const state: SavedTensor[] = [];
  for (const [i, entry] of rest.entries()) {
    const { name, tensor: t } = entry ?? {};
    if (typeof name !== "string" || name.lastIndexOf("/") <= 0 || !isTensor(t)) {
      throw new TypeError(`${caller}: weights[${i + 1}] must be { name: "<variable>/<slot>", tensor }, got ${kindOf(name ?? entry)}`);
    }
    state.push({ name, shape: [...t.shape], values: Float32Array.from(await t.data()) });
  }
  const steps = (await iterTensor.data())[0];
  if (!Number.isSafeInteger(steps) || steps < 0) throw new RangeError(`${caller}: the step count "iter" must be an integer ≥ 0, got ${steps}`);
  const current = restoring.get(optimizer) ?? {};
  restoring.set(optimizer, { ...current, state, byName: undefined });
  return steps;
}

/**
 * Called by the optimizer before each step with the names of its variables, in order: the first
 * step after loading matches the saved variables to them and hands the loaded state to the engine.
 * A learning rate that was a schedule must have been given back first.
 *
 * @example
 * // in GcOptimizer.applyGradients, before the variables are resolved:
 * beforeStep(this, entries.map(({ name }) => name), "train.adam: applyGradients");
 */
export function beforeStep(optimizer: GcOptimizer, names: readonly string[], caller: string): void {
  if (optimizer.config.learningRate === null && optimizer.extras.schedule === undefined) {
    throw new TypeError(
      `${caller}: this optimizer was loaded from a saved model and its learning rate was a schedule (a function, which a saved model cannot hold): ` +
        `give it again with restoreOptimizer(optimizer, { learningRate: schedule }) before training`,
    );
  }
  const pending = restoring.get(optimizer);
  if (pending === undefined || pending.byName !== undefined) return;
  const savedNames = pending.variables?.map((v) => v.name) ?? groupNames(pending.state ?? []);
  const rename = matchVariables(savedNames, names, pending, caller);
  const renamed = (pending.state ?? []).map(({ name, shape, values }) => {
    const slash = name.lastIndexOf("/");
    return { name: `${rename.get(name.slice(0, slash))}${name.slice(slash)}`, shape, values };
  });
  for (const { name, shape, values } of renamed) {
    const variable = tfEngine().registeredVariables[name.slice(0, name.lastIndexOf("/"))];
    if (variable !== undefined && values.length !== 1 && values.length !== variable.size) {
      throw new RangeError(`${caller}: the loaded state ${name} has shape [${shape.join(", ")}], its variable [${variable.shape.join(", ")}]`);
    }
  }
  const byName = new Map<string, { unitAxis: number | null; unitSpan: number; decay: boolean }>();
  for (const saved of pending.variables ?? []) byName.set(rename.get(saved.name)!, { unitAxis: saved.unitAxis, unitSpan: saved.unitSpan, decay: saved.decay });
  restoring.set(optimizer, { ...pending, state: undefined, byName });
  if (renamed.length === 0) return;
  const state = renamed.map(({ name, shape, values }) => ({ name, tensor: tensor(values, shape as number[], "float32") }));
  try {
    optimizer.setState(state);
  } catch (error) {
    restoring.set(optimizer, pending); // still pending: nothing was stepped
    throw error;
  } finally {
    for (const { tensor: t } of state) t.dispose();
  }
}

/**
 * The saved unit axes and decay of a variable (by its current name) once a loaded optimizer has
 * matched its variables; undefined for others. Fields `restoreOptimizer` replaced are left out.
 *
 * @example
 * restoredVariable(loaded, "dense_Dense1/kernel_1"); // { unitAxis: 1, unitSpan: 1, decay: true }
 */
export function restoredVariable(optimizer: GcOptimizer, name: string): { unitAxis?: number | null; unitSpan?: number; decay?: boolean } | undefined {
  const restored = restoring.get(optimizer);
  const saved = restored?.byName?.get(name);
  if (saved === undefined) return undefined;
  return { ...(restored!.ownAxes ? {} : { unitAxis: saved.unitAxis, unitSpan: saved.unitSpan }), ...(restored!.ownDecay ? {} : { decay: saved.decay }) };
}

/** Options `restoreOptimizer` gives back to a loaded optimizer: those a saved model cannot hold. */
export interface RestoreOptions {
  /** The learning-rate schedule (or a number) the optimizer was made with. */
  learningRate?: number | LearningRateSchedule;
  /** The model, for the unit axes of variables the saved optimizer had not stepped (the others keep theirs, unless `unitAxis` is given). */
  model?: ModelLike;
  /** Picks the unit axis again, for every variable (the saved axes are dropped). */
  unitAxis?: UnitAxisFunction;
  /** RegExps and strings naming variables not decayed, again, for every variable (the saved flags are dropped). */
  excludeFromWeightDecay?: readonly (string | RegExp)[];
}

/**
 * Gives a loaded optimizer back what a saved model cannot hold: a schedule function, a `model`,
 * a `unitAxis` function, RegExps of `excludeFromWeightDecay`. Call it after `tf.loadLayersModel`,
 * before training. Without it the loaded optimizer steps with the unit axes and decay flags it
 * was saved with (a schedule, which it cannot do without, makes its first step throw).
 * Returns the optimizer.
 *
 * @example
 * const model = await tf.loadLayersModel("indexeddb://digits");
 * restoreOptimizer(model.optimizer, { learningRate: (step) => 1e-3 * 0.999 ** step }); // the schedule it was made with
 */
export function restoreOptimizer<T extends GcOptimizer>(optimizer: T, options: RestoreOptions): T {
  const caller = "restoreOptimizer";
  if (optimizer === null || typeof optimizer !== "object" || typeof (optimizer as { setState?: unknown }).setState !== "function" || !(optimizer.config?.rule in CLASS_NAMES)) {
    throw new TypeError(`${caller}: optimizer must be one of this package's TF.js optimizers (train.*), got ${kindOf(optimizer)}`);
  }
  const record = readOptions(options, ["learningRate", "model", "unitAxis", "excludeFromWeightDecay"], caller);
  const rate = record.learningRate;
  if (rate !== undefined && typeof rate !== "function") nonNegative(rate, caller, "options.learningRate");
  const { rule } = optimizer.config;
  const given = { model: record.model, unitAxis: record.unitAxis, excludeFromWeightDecay: record.excludeFromWeightDecay };
  const { config, extras } = readTrainOptions(given, rule, caller);
  optimizer.restoreExtras(
    {
      ...optimizer.extras,
      ...(rate !== undefined ? { schedule: typeof rate === "function" ? (rate as LearningRateSchedule) : undefined } : {}),
      ...(record.model !== undefined ? { model: extras.model } : {}),
      ...(record.unitAxis !== undefined ? { unitAxis: extras.unitAxis } : {}),
      ...(record.excludeFromWeightDecay !== undefined ? { excludePatterns: extras.excludePatterns } : {}),
    },
    {
      ...(typeof rate === "number" ? { learningRate: rate } : typeof rate === "function" ? { learningRate: null } : {}),
      ...(record.excludeFromWeightDecay !== undefined ? { excludeFromWeightDecay: config.excludeFromWeightDecay } : {}),
    },
  );
  const restored = restoring.get(optimizer);
  if (restored !== undefined) {
    if (record.unitAxis !== undefined) restored.ownAxes = true;
    if (record.excludeFromWeightDecay !== undefined) restored.ownDecay = true;
  }
  return optimizer;
}

/** The variable names of a state list (`${variable}/${slot}`), in first-appearance order. */
function groupNames(state: readonly SavedTensor[]): string[] {
  return [...new Set(state.map(({ name }) => name.slice(0, name.lastIndexOf("/"))))];
}

/**
 * Saved variable name → current name: the same names when every saved one is among `names`,
 * else by position when there are as many and their shapes agree; otherwise a RangeError.
 */
function matchVariables(saved: readonly string[], names: readonly string[], pending: Restoring, caller: string): Map<string, string> {
  const current = new Set(names);
  if (saved.every((name) => current.has(name))) return new Map(saved.map((name) => [name, name]));
  if (saved.length === names.length) {
    const agree = saved.every((name, i) => {
      const shape = savedShape(pending, name, i);
      const variable = tfEngine().registeredVariables[names[i]];
      return shape === undefined || variable === undefined || (shape.length === variable.shape.length && shape.every((d, k) => d === variable.shape[k]));
    });
    if (agree) return new Map(saved.map((name, i) => [name, names[i]]));
  }
  const list = (xs: readonly string[]) => (xs.length > 4 ? `${xs.slice(0, 4).join(", ")}, … (${xs.length})` : xs.join(", "));
  throw new RangeError(
    `${caller}: the loaded optimizer was saved for the variables [${list(saved)}] and this step trains [${list(names)}]: ` +
      `neither the same names nor as many of the same shapes in the same order; make a new optimizer to train these`,
  );
}

/** The shape the `index`-th saved variable had: from the config, else from its state (its first non-scalar slot). */
function savedShape(pending: Restoring, name: string, index: number): readonly number[] | undefined {
  const listed = pending.variables?.[index];
  if (listed !== undefined && listed.name === name) return listed.shape;
  return pending.state?.find((s) => s.name.slice(0, s.name.lastIndexOf("/")) === name && s.shape.length > 0)?.shape;
}

/** `excludeFromWeightDecay` as saved: `[{ name }]` (so tfjs-layers leaves the strings alone). */
function readNamedList(value: unknown, caller: string, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`${caller}: ${what} must be an array of { name }, got ${kindOf(value)}`);
  return value.map((item, i) => {
    const name = item !== null && typeof item === "object" ? (item as { name?: unknown }).name : undefined;
    if (typeof name !== "string") throw new TypeError(`${caller}: ${what}[${i}] must be { name: string }, got ${kindOf(item)}`);
    return name;
  });
}

/** The config's `hyperparameters`: exactly the rule's, each checked. */
function readHyperparameters(rule: RuleName, value: unknown, caller: string): TrainConfig["hyperparameters"] {
  const checks = HYPERPARAMETER_CHECKS[rule];
  const record = readOptions(value, Object.keys(checks), caller, "config.hyperparameters", `a hyperparameter of ${CLASS_NAMES[rule]}`);
  for (const [key, check] of Object.entries(checks)) check(record[key], caller, `config.hyperparameters.${key}`);
  return Object.freeze({ ...record }) as unknown as TrainConfig["hyperparameters"];
}

/** The config's `variables`: `[{ name, shape, unitAxis, unitSpan, decay }]`. */
function readSavedVariables(value: unknown, caller: string): SavedVariable[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`${caller}: config.variables must be an array, got ${kindOf(value)}`);
  return value.map((item, i) => {
    const what = `config.variables[${i}]`;
    const record = readOptions(item, ["name", "shape", "unitAxis", "unitSpan", "decay"], caller, what, "a field of a saved variable");
    const { name, shape, unitAxis, unitSpan = 1, decay } = record;
    if (typeof name !== "string") throw new TypeError(`${caller}: ${what}.name must be a string, got ${kindOf(name)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TypeError(`${caller}: ${what}.shape must be an array of integers ≥ 0, got ${kindOf(shape)}`);
    }
    if (unitAxis !== null && !(Number.isInteger(unitAxis) && (unitAxis as number) >= 0 && (unitAxis as number) < shape.length)) {
      const got = typeof unitAxis === "number" ? String(unitAxis) : kindOf(unitAxis);
      throw new RangeError(`${caller}: ${what}.unitAxis must be null or an integer in [0, ${shape.length}), got ${got}`);
    }
    const room = unitAxis === null ? 1 : shape.length - (unitAxis as number);
    if (!Number.isInteger(unitSpan) || (unitSpan as number) < 1 || (unitSpan as number) > room) {
      const got = typeof unitSpan === "number" ? String(unitSpan) : kindOf(unitSpan);
      throw new RangeError(`${caller}: ${what}.unitSpan must be an integer in [1, ${room}], got ${got}`);
    }
    isBoolean(decay, caller, `${what}.decay`);
    return { name, shape: [...(shape as number[])], unitAxis: unitAxis as number | null, unitSpan: unitSpan as number, decay: decay as boolean };
  });
}

/** True once `init()` has finished (the kernels engine needs it). */
function kernelsReady(): boolean {
  try {
    kernelsBackend();
    return true;
  } catch {
    return false;
  }
}

/** A tf.Tensor by the members this file reads (another copy of tfjs-core's tensors pass too). */
function isTensor(value: unknown): value is Tensor {
  const t = value as Partial<Tensor> | null;
  return t !== null && typeof t === "object" && Array.isArray(t.shape) && typeof t.data === "function" && typeof t.size === "number";
}
