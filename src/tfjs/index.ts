/**
 * gradient-centralization/tfjs: Gradient Centralization for TensorFlow.js. The main entry never
 * imports TF.js; this one takes `@tensorflow/tfjs-core` as a peer.
 *
 * `train.*` makes tf.Optimizers with GC fused into their rule (the WebAssembly kernels on the cpu
 * and wasm backends after `init()`, TF.js ops elsewhere); `withGradientCentralization` wraps any
 * TF.js optimizer with GC as TF.js ops.
 *
 * @example
 * import { init, train } from "gradient-centralization/tfjs";
 * await init();
 * model.compile({ optimizer: train.adam(1e-3, 0.9, 0.999, null, { gc: "gradient", model }), loss: "categoricalCrossentropy" });
 * await model.fit(xs, ys, { epochs: 5 });
 * @module
 */
import { adadelta, adagrad, adam, adamax, adamw, lion, momentum, nadam, radam, ranger, rmsprop, sgd } from "./train.js";

export { init, initSync, backend } from "../index.js";
export { centralizeTensor, withGradientCentralization, type CentralizeTensorOptions, type TfjsGcOptions, type VariableGradients } from "./wrap.js";
export { layerUnitAxes, weightUnitSpec } from "./units.js";
export type { UnitSpec } from "./unit-view.js";
export { GcOptimizer } from "./optimizer.js";
export { restoreOptimizer, type RestoreOptions } from "./serialization.js";
export {
  GcSGD,
  GcMomentum,
  GcAdam,
  GcAdamax,
  GcAdagrad,
  GcAdadelta,
  GcRMSProp,
  GcAdamW,
  GcRAdam,
  GcNAdam,
  GcLion,
  GcRanger,
} from "./train.js";
export type {
  TrainOptions,
  AdamWTrainOptions,
  RAdamTrainOptions,
  NAdamTrainOptions,
  LionTrainOptions,
  RangerTrainOptions,
  TrainConfig,
  TrainExtras,
  TrainLearningRate,
  LearningRateSchedule,
  UnitAxisFunction,
  EngineChoice,
  ModelLike,
} from "./options.js";
export type { RuleName, TfjsGcMode, RuleHyperparameters } from "./engines/engine.js";

/**
 * The optimizers, as `tf.train`'s factories: `train.sgd`, `train.momentum`, `train.adam`,
 * `train.adamax`, `train.adagrad`, `train.adadelta`, `train.rmsprop` take tf.train's positional
 * parameters then an options object; `train.adamw`, `train.radam`, `train.nadam`, `train.lion`,
 * `train.ranger` take `(learningRate, options)`.
 *
 * @example
 * const optimizer = train.adamw(1e-3, { weightDecay: 0.05, gc: "gradient", model });
 */
export const train = { sgd, momentum, adam, adamax, adagrad, adadelta, rmsprop, adamw, radam, nadam, lion, ranger };
