/**
 * gradient-centralization: Gradient Centralization (Yong et al., 2020, arXiv:2004.01461)
 * computed by WebAssembly SIMD kernels over linear memory.
 *
 * @example
 * import { init, centralize } from "gradient-centralization";
 * await init();
 * centralize(grad, [out, inp]);   // every row of grad now has mean 0
 * @module
 */
export { init, initSync, backend, shutdown } from "./runtime.js";
export type { Backend, InitOptions, WasmSource } from "./loader.js";
export { Tensor } from "./tensor.js";
export { tidy, keep } from "./tidy.js";
export { memory, type MemoryInfo } from "./memory-use.js";
export { centralize, centralizeAll, type GradientEntry } from "./centralize.js";
export type { CentralizeOptions, Layout, UnitAxis } from "./layout.js";
export { gradientStats, type GradientStats, type StatsOptions } from "./stats.js";
export { SGD, type SGDOptions, type SGDHyperparameters } from "./optim/sgd.js";
export { Adam, type AdamOptions, type AdamHyperparameters } from "./optim/adam.js";
export { AdamW, type AdamWOptions } from "./optim/adamw.js";
export { RAdam, type RAdamOptions, type RAdamHyperparameters } from "./optim/rules/radam.js";
export { NAdam, type NAdamOptions, type NAdamHyperparameters } from "./optim/rules/nadam.js";
export { Adamax, type AdamaxOptions, type AdamaxHyperparameters } from "./optim/rules/adamax.js";
export { Adagrad, type AdagradOptions, type AdagradHyperparameters } from "./optim/rules/adagrad.js";
export { Adadelta, type AdadeltaOptions, type AdadeltaHyperparameters } from "./optim/rules/adadelta.js";
export { RMSprop, type RMSpropOptions, type RMSpropHyperparameters } from "./optim/rules/rmsprop.js";
export { Lion, type LionOptions, type LionHyperparameters } from "./optim/rules/lion.js";
export type { Optimizer, ParamGroup, ParamGroupInput, OptimizerStateDict, StateDictOptions } from "./optim/base.js";
export type { Param } from "./optim/params.js";
export type { GcMode } from "./optim/hyperparameters.js";
export type { Formula } from "./optim/formula.js";
export type { ParamStateDict, StateBuffer } from "./optim/state.js";
export type { LearningRate, OptimizerOptions, Scheduled } from "./optim/base.js";
export { Lookahead, type LookaheadOptions, type LookaheadStateDict } from "./optim/lookahead.js";
export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from "./clip.js";
export {
  constantSchedule,
  linearSchedule,
  cosineDecaySchedule,
  warmupCosineDecaySchedule,
  exponentialDecay,
  piecewiseConstantSchedule,
  linearOnecycleSchedule,
  cosineOnecycleSchedule,
  type Schedule,
  type BoundariesAndScales,
  type LinearScheduleOptions,
  type CosineDecayScheduleOptions,
  type WarmupCosineDecayScheduleOptions,
  type ExponentialDecayOptions,
  type PiecewiseConstantScheduleOptions,
  type LinearOnecycleScheduleOptions,
  type CosineOnecycleScheduleOptions,
} from "./optim/schedules.js";
export { Ranger, type RangerOptions } from "./optim/ranger.js";
