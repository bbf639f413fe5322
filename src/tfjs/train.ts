// The factories: tf.train's seven with tf.train's positional parameters and defaults, then one
// options object; the main entry's rules beyond TF.js as (learningRate, options).
import type { RuleHyperparameters, RuleName } from "./engines/engine.js";
import { GcOptimizer } from "./optimizer.js";
import { registerOptimizerClasses } from "./serialization.js";
import {
  type AdamWTrainOptions,
  betasCheck,
  epsilonArgument,
  halfOpenUnitInterval,
  isBoolean,
  type LionTrainOptions,
  type NAdamTrainOptions,
  nonNegative,
  positional,
  positive,
  type RAdamTrainOptions,
  type RangerTrainOptions,
  readLearningRate,
  readTrainOptions,
  type TrainLearningRate,
  type TrainOptions,
  unitInterval,
} from "./options.js";
import type { OptionCheck } from "../checks.js";

/**
 * `train.sgd`'s class: w ← w − lr·g. One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.sgd(0.1) instanceof GcSGD; // true
 */
export class GcSGD extends GcOptimizer {
  static override get className(): string {
    return "GcSGD";
  }
}
/**
 * `train.momentum`'s class: a ← μ·a + g, w ← w − lr·a (Nesterov: w ← w − lr·(g + μ·a)). One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.momentum(0.01, 0.9) instanceof GcMomentum; // true
 */
export class GcMomentum extends GcOptimizer {
  static override get className(): string {
    return "GcMomentum";
  }
}
/**
 * `train.adam`'s class: tf.train.adam's step, w ← w − lr·(m/(1 − β1ᵗ))/(√(v/(1 − β2ᵗ)) + ε). One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.adam(1e-3) instanceof GcAdam; // true
 */
export class GcAdam extends GcOptimizer {
  static override get className(): string {
    return "GcAdam";
  }
}
/**
 * `train.adamax`'s class: u ← max(β2·u, |g|), w ← w − lr/(1 + decay·(t − 1))/(1 − β1ᵗ)·m/(u + ε). One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.adamax(2e-3) instanceof GcAdamax; // true
 */
export class GcAdamax extends GcOptimizer {
  static override get className(): string {
    return "GcAdamax";
  }
}
/**
 * `train.adagrad`'s class: s ← s + g², w ← w − lr·g/√(s + ε). One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.adagrad(0.1) instanceof GcAdagrad; // true
 */
export class GcAdagrad extends GcOptimizer {
  static override get className(): string {
    return "GcAdagrad";
  }
}
/**
 * `train.adadelta`'s class: tf.train.adadelta's step (δ from the accumulators before the update). One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.adadelta(1) instanceof GcAdadelta; // true
 */
export class GcAdadelta extends GcOptimizer {
  static override get className(): string {
    return "GcAdadelta";
  }
}
/**
 * `train.rmsprop`'s class: a ← μ·a + lr·g/√(v + ε), w ← w − a. One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.rmsprop(1e-3) instanceof GcRMSProp; // true
 */
export class GcRMSProp extends GcOptimizer {
  static override get className(): string {
    return "GcRMSProp";
  }
}
/**
 * `train.adamw`'s class: the main entry's AdamW, w ← w·(1 − lr·wd) + Adam's step. One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.adamw(1e-3) instanceof GcAdamW; // true
 */
export class GcAdamW extends GcOptimizer {
  static override get className(): string {
    return "GcAdamW";
  }
}
/**
 * `train.radam`'s class: the main entry's RAdam (rectified Adam when ρₜ > 5). One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.radam(1e-3) instanceof GcRAdam; // true
 */
export class GcRAdam extends GcOptimizer {
  static override get className(): string {
    return "GcRAdam";
  }
}
/**
 * `train.nadam`'s class: the main entry's NAdam (Adam with Nesterov momentum and μₜ's schedule). One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.nadam(2e-3) instanceof GcNAdam; // true
 */
export class GcNAdam extends GcOptimizer {
  static override get className(): string {
    return "GcNAdam";
  }
}
/**
 * `train.lion`'s class: the main entry's Lion, w ← w·(1 − lr·wd) − lr·sign(β1·m + (1 − β1)·g). One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.lion(1e-4) instanceof GcLion; // true
 */
export class GcLion extends GcOptimizer {
  static override get className(): string {
    return "GcLion";
  }
}
/**
 * `train.ranger`'s class: Lookahead(RAdam), φ ← φ + α·(w − φ), w ← φ after every k-th step. One class per rule, so that each registers under its own class name.
 *
 * @example
 * train.ranger(1e-3) instanceof GcRanger; // true
 */
export class GcRanger extends GcOptimizer {
  static override get className(): string {
    return "GcRanger";
  }
}

/**
 * The class of each rule.
 *
 * @example
 * new RULE_CLASSES.adam(config, extras) instanceof GcAdam; // true (config: a checked TrainConfig)
 */
export const RULE_CLASSES: Record<RuleName, new (...args: ConstructorParameters<typeof GcOptimizer>) => GcOptimizer> = {
  sgd: GcSGD,
  momentum: GcMomentum,
  adam: GcAdam,
  adamax: GcAdamax,
  adagrad: GcAdagrad,
  adadelta: GcAdadelta,
  rmsprop: GcRMSProp,
  adamw: GcAdamW,
  radam: GcRAdam,
  nadam: GcNAdam,
  lion: GcLion,
  ranger: GcRanger,
};
registerOptimizerClasses(Object.values(RULE_CLASSES)); // tf.loadLayersModel finds them by className

/** Makes the optimizer of `rule` from its learning rate, checked hyperparameters and options. */
function make<R extends RuleName>(
  rule: R,
  learningRate: unknown,
  defaultRate: number | undefined,
  hyperparameters: (own: Record<string, unknown>) => RuleHyperparameters[R],
  options: unknown,
  ruleChecks?: Record<string, OptionCheck>,
): GcOptimizer {
  const caller = `train.${rule}`;
  const rate = readLearningRate(learningRate, caller, defaultRate);
  const { config, extras, own } = readTrainOptions(options, rule, caller, ruleChecks);
  const checked = hyperparameters(own);
  return new RULE_CLASSES[rule]({ ...config, rule, learningRate: rate.learningRate, hyperparameters: checked }, { ...extras, schedule: rate.schedule }, caller);
}

/** Each β in [0, 1). */
const betasOption: OptionCheck = betasCheck;

/**
 * SGD as `tf.train.sgd(learningRate)`: w ← w − lr·g (g centralized with gc "gradient").
 *
 * @example
 * model.compile({ optimizer: train.sgd(0.1, { gc: "gradient" }), loss: "meanSquaredError" });
 */
export function sgd(learningRate: TrainLearningRate, options?: TrainOptions): GcOptimizer {
  return make("sgd", learningRate, undefined, () => ({}), options);
}

/**
 * Momentum as `tf.train.momentum(learningRate, momentum, useNesterov = false)`:
 * a ← μ·a + g; w ← w − lr·a (Nesterov: w ← w − lr·(g + μ·a)).
 *
 * @example
 * const optimizer = train.momentum(0.01, 0.9, true, { gc: "gradient", model });
 */
export function momentum(learningRate: TrainLearningRate, momentum: number, useNesterov?: boolean, options?: TrainOptions): GcOptimizer {
  const caller = "train.momentum";
  nonNegative(momentum, caller, "momentum");
  const m = momentum;
  const nesterov = positional(useNesterov, false, isBoolean, caller, "useNesterov");
  return make("momentum", learningRate, undefined, () => ({ momentum: m, useNesterov: nesterov }), options);
}

/**
 * Adam as `tf.train.adam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = backend's)`:
 * m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; w ← w − lr·(m/(1 − β1ᵗ)) / (√(v/(1 − β2ᵗ)) + ε).
 *
 * @example
 * model.compile({ optimizer: train.adam(1e-3, 0.9, 0.999, null, { gc: "gradient", model }), loss: "categoricalCrossentropy" });
 */
export function adam(learningRate?: TrainLearningRate, beta1?: number, beta2?: number, epsilon?: number | null, options?: TrainOptions): GcOptimizer {
  const caller = "train.adam";
  const b1 = positional(beta1, 0.9, halfOpenUnitInterval, caller, "beta1");
  const b2 = positional(beta2, 0.999, halfOpenUnitInterval, caller, "beta2");
  const eps = epsilonArgument(epsilon, caller);
  return make("adam", learningRate, 0.001, () => ({ beta1: b1, beta2: b2, epsilon: eps }), options);
}

/**
 * Adamax as `tf.train.adamax(learningRate = 0.002, beta1 = 0.9, beta2 = 0.999, epsilon, decay = 0)`:
 * m ← β1·m + (1 − β1)·g; u ← max(β2·u, |g|); w ← w − lr/(1 + decay·(t − 1)) / (1 − β1ᵗ) · m/(u + ε).
 *
 * @example
 * const optimizer = train.adamax(0.002, undefined, undefined, undefined, 0, { gc: "update" });
 */
export function adamax(learningRate?: TrainLearningRate, beta1?: number, beta2?: number, epsilon?: number | null, decay?: number, options?: TrainOptions): GcOptimizer {
  const caller = "train.adamax";
  const b1 = positional(beta1, 0.9, halfOpenUnitInterval, caller, "beta1");
  const b2 = positional(beta2, 0.999, halfOpenUnitInterval, caller, "beta2");
  const eps = epsilonArgument(epsilon, caller);
  const d = positional(decay, 0, nonNegative, caller, "decay");
  return make("adamax", learningRate, 0.002, () => ({ beta1: b1, beta2: b2, epsilon: eps, decay: d }), options);
}

/**
 * Adagrad as `tf.train.adagrad(learningRate, initialAccumulatorValue = 0.1)`:
 * s ← s + g² (s starting at initialAccumulatorValue); w ← w − lr·g/√(s + ε), ε the backend's.
 *
 * @example
 * const optimizer = train.adagrad(0.1, 0.1, { gc: "gradient" });
 */
export function adagrad(learningRate: TrainLearningRate, initialAccumulatorValue?: number, options?: TrainOptions): GcOptimizer {
  const caller = "train.adagrad";
  const initial = positional(initialAccumulatorValue, 0.1, nonNegative, caller, "initialAccumulatorValue");
  const eps = epsilonArgument(null, caller);
  return make("adagrad", learningRate, undefined, () => ({ initialAccumulatorValue: initial, epsilon: eps }), options);
}

/**
 * Adadelta as `tf.train.adadelta(learningRate = 0.001, rho = 0.95, epsilon)`:
 * δ = √(u + ε)/√(v + ε)·g (v before this step's update, as tf.train); v ← ρ·v + (1 − ρ)·g²;
 * u ← ρ·u + (1 − ρ)·δ²; w ← w − lr·δ.
 *
 * @example
 * const optimizer = train.adadelta(1, 0.95, null, { gc: "gradient" });
 */
export function adadelta(learningRate?: TrainLearningRate, rho?: number, epsilon?: number | null, options?: TrainOptions): GcOptimizer {
  const caller = "train.adadelta";
  const r = positional(rho, 0.95, unitInterval, caller, "rho");
  const eps = epsilonArgument(epsilon, caller);
  return make("adadelta", learningRate, 0.001, () => ({ rho: r, epsilon: eps }), options);
}

/**
 * RMSprop as `tf.train.rmsprop(learningRate, decay = 0.9, momentum = 0, epsilon, centered = false)`:
 * v ← ρ·v + (1 − ρ)·g²; a ← μ·a + lr·g/√(v + ε) (centered: √(v − mg² − ε), mg ← ρ·mg + (1 − ρ)·g); w ← w − a.
 *
 * @example
 * const optimizer = train.rmsprop(1e-3, 0.9, 0.9, null, false, { gc: "gradient" });
 */
export function rmsprop(learningRate: TrainLearningRate, decay?: number, momentum?: number, epsilon?: number | null, centered?: boolean, options?: TrainOptions): GcOptimizer {
  const caller = "train.rmsprop";
  const d = positional(decay, 0.9, unitInterval, caller, "decay");
  const m = positional(momentum, 0, nonNegative, caller, "momentum");
  const eps = epsilonArgument(epsilon, caller);
  const c = positional(centered, false, isBoolean, caller, "centered");
  return make("rmsprop", learningRate, undefined, () => ({ decay: d, momentum: m, epsilon: eps, centered: c }), options);
}

/**
 * AdamW as the main entry's `AdamW` (torch.optim.AdamW): Adam's moments, then
 * w ← w·(1 − lr·weightDecay) − lr·(m/(1 − β1ᵗ)) / (√(v/(1 − β2ᵗ)) + eps). Defaults: lr 1e-3,
 * betas [0.9, 0.999], eps 1e-8, weightDecay 1e-2.
 *
 * @example
 * const optimizer = train.adamw(1e-3, { weightDecay: 0.05, excludeFromWeightDecay: ["bias"], model });
 */
export function adamw(learningRate?: TrainLearningRate, options?: AdamWTrainOptions): GcOptimizer {
  return make(
    "adamw",
    learningRate,
    1e-3,
    (own) => ({
      betas: (own.betas ?? [0.9, 0.999]) as [number, number],
      eps: (own.eps ?? 1e-8) as number,
      weightDecay: (own.weightDecay ?? 1e-2) as number,
      amsgrad: (own.amsgrad ?? false) as boolean,
    }),
    options,
    { betas: betasOption, eps: positive, weightDecay: nonNegative, amsgrad: isBoolean },
  );
}

/**
 * RAdam as the main entry's `RAdam` (torch.optim.RAdam): the rectified Adam step when ρₜ > 5,
 * else the bias-corrected momentum. Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0 (L2).
 *
 * @example
 * const optimizer = train.radam(1e-3, { gc: "gradient" });
 */
export function radam(learningRate?: TrainLearningRate, options?: RAdamTrainOptions): GcOptimizer {
  return make(
    "radam",
    learningRate,
    1e-3,
    (own) => ({ betas: (own.betas ?? [0.9, 0.999]) as [number, number], eps: (own.eps ?? 1e-8) as number, weightDecay: (own.weightDecay ?? 0) as number }),
    options,
    { betas: betasOption, eps: positive, weightDecay: nonNegative },
  );
}

/**
 * NAdam as the main entry's `NAdam` (torch.optim.NAdam): Adam with Nesterov momentum and the
 * μₜ = β1·(1 − ½·0.96^(t·momentumDecay)) schedule. Defaults: lr 2e-3, betas [0.9, 0.999], eps 1e-8,
 * weightDecay 0 (L2), momentumDecay 4e-3.
 *
 * @example
 * const optimizer = train.nadam(2e-3, { gc: "gradient" });
 */
export function nadam(learningRate?: TrainLearningRate, options?: NAdamTrainOptions): GcOptimizer {
  return make(
    "nadam",
    learningRate,
    2e-3,
    (own) => ({
      betas: (own.betas ?? [0.9, 0.999]) as [number, number],
      eps: (own.eps ?? 1e-8) as number,
      weightDecay: (own.weightDecay ?? 0) as number,
      momentumDecay: (own.momentumDecay ?? 4e-3) as number,
    }),
    options,
    { betas: betasOption, eps: positive, weightDecay: nonNegative, momentumDecay: nonNegative },
  );
}

/**
 * Lion as the main entry's `Lion` (Chen et al., 2023): c = β1·m + (1 − β1)·g;
 * w ← w·(1 − lr·weightDecay) − lr·sign(c); m ← β2·m + (1 − β2)·g. Defaults: lr 1e-4, betas [0.9, 0.99], weightDecay 0.
 *
 * @example
 * const optimizer = train.lion(1e-4, { weightDecay: 0.1, excludeFromWeightDecay: [/bias/] });
 */
export function lion(learningRate?: TrainLearningRate, options?: LionTrainOptions): GcOptimizer {
  return make(
    "lion",
    learningRate,
    1e-4,
    (own) => ({ betas: (own.betas ?? [0.9, 0.99]) as [number, number], weightDecay: (own.weightDecay ?? 0) as number }),
    options,
    { betas: betasOption, weightDecay: nonNegative },
  );
}

const checkK: OptionCheck = (value, caller, name) => {
  if (typeof value !== "number") throw new TypeError(`${caller}: ${name} must be a number, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${caller}: ${name} must be an integer ≥ 1, got ${value}`);
};

/**
 * Ranger as the main entry's `Ranger`: Lookahead(RAdam) — RAdam's step, and after every k-th
 * step φ ← φ + α·(w − φ), w ← φ. Defaults: lr 1e-3, betas [0.95, 0.999], eps 1e-5, weightDecay 0, k 6, alpha 0.5.
 *
 * @example
 * const optimizer = train.ranger(1e-3, { k: 6, alpha: 0.5, model });
 */
export function ranger(learningRate?: TrainLearningRate, options?: RangerTrainOptions): GcOptimizer {
  return make(
    "ranger",
    learningRate,
    1e-3,
    (own) => ({
      betas: (own.betas ?? [0.95, 0.999]) as [number, number],
      eps: (own.eps ?? 1e-5) as number,
      weightDecay: (own.weightDecay ?? 0) as number,
      k: (own.k ?? 6) as number,
      alpha: (own.alpha ?? 0.5) as number,
    }),
    options,
    { betas: betasOption, eps: positive, weightDecay: nonNegative, k: checkK, alpha: unitInterval },
  );
}
