// RMSprop (torch.optim.RMSprop, or tf.train.rmsprop) with Gradient Centralization fused into its kernel.
import { isBoolean } from "../../checks.js";
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "../base.js";
import { type Formula, formulaCheck } from "../formula.js";
import { gcChecks, gcDefaults, type GcHyperparameters, nonNegative, positive, unitInterval } from "../hyperparameters.js";
import type { Param } from "../params.js";
import type { ParamState } from "../state.js";
import { type EntryWriter, F32, FLAG, I32 } from "../table.js";

/** RMSprop's hyperparameters (torch.optim.RMSprop's names in camelCase) plus GC's. */
export interface RMSpropHyperparameters extends GcHyperparameters {
  /** Learning rate; default 1e-2. */
  lr: number;
  /** Decay of the square average, in [0, 1]; default 0.99. */
  alpha: number;
  /** Added to the root (torch) or under it (tfjs), > 0; default 1e-8. */
  eps: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
  /** μ of the momentum buffer; default 0 (none). */
  momentum: number;
  /** Normalize by the variance estimate v − a² (a: the gradient average) instead of v; default false. */
  centered: boolean;
  /**
   * `"torch"` (default): lr applied to the buffer, eps added to the root (see `RMSprop`).
   * `"tfjs"`: as tf.train.rmsprop(lr, decay = alpha, momentum, epsilon = eps, centered), lr inside
   * the momentum buffer (kept with momentum 0 too, as TF.js keeps it) and eps under the root; its
   * defaults are alpha 0.9 and eps 1e-7 (the backend's epsilon): pass them to follow it.
   */
  formula: Formula;
}

/** Options of `new RMSprop`. */
export type RMSpropOptions = OptimizerOptions<RMSpropHyperparameters>;

// f32 fields and flags of the kernel's table entry (assembly/optim/rmsprop.ts)
const NEG_LR = 36;
const ALPHA = 40;
const ONE_MINUS_ALPHA = 44;
const EPS = 48;
const MOMENTUM = 52;
const CENTERED = 8;
const HAS_MOMENTUM = 16;

const SQUARE_AVG = "squareAvg";
const GRAD_AVG = "gradAvg";
const MOMENTUM_BUFFER = "momentumBuffer";

/** torch keeps a momentum buffer only with momentum > 0; tf.train.rmsprop always does (its "momentum" slot: the last step when momentum is 0). */
const hasMomentumBuffer = (group: RMSpropHyperparameters) => group.momentum > 0 || group.formula === "tfjs";

const rmspropRule: Rule<RMSpropHyperparameters> = {
  name: "RMSprop",
  kernel: "rmspropStep",
  defaults: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, formula: "torch", ...gcDefaults },
  checks: {
    lr: nonNegative,
    alpha: unitInterval,
    eps: positive,
    weightDecay: nonNegative,
    momentum: nonNegative,
    centered: isBoolean,
    formula: formulaCheck,
    ...gcChecks,
  },
  checkGroup() {},
  bufferNames: [SQUARE_AVG, MOMENTUM_BUFFER, GRAD_AVG],
  buffersFor: (group) => [SQUARE_AVG, ...(hasMomentumBuffer(group) ? [MOMENTUM_BUFFER] : []), ...(group.centered ? [GRAD_AVG] : [])],
  writeEntry(entry: EntryWriter, group: RMSpropHyperparameters, state: ParamState): number {
    entry.int(I32.stateA, state.address(SQUARE_AVG));
    entry.int(I32.stateB, state.address(GRAD_AVG));
    entry.int(I32.stateC, state.address(MOMENTUM_BUFFER));
    entry.float(F32.weightDecay, group.weightDecay);
    entry.float(NEG_LR, -group.lr);
    entry.float(ALPHA, group.alpha);
    entry.float(ONE_MINUS_ALPHA, 1 - group.alpha);
    entry.float(EPS, group.eps);
    entry.float(MOMENTUM, group.momentum);
    const formula = group.formula === "tfjs" ? FLAG.formulaTfjs : 0;
    return (group.centered ? CENTERED : 0) | (hasMomentumBuffer(group) ? HAS_MOMENTUM : 0) | formula;
  },
};

/**
 * RMSprop (Hinton, 2012), as torch.optim.RMSprop or tf.train.rmsprop, with GC fused into the step.
 * Per step, with d = g + weightDecay·w (gc "gradient": d ← P d, each output unit's mean removed):
 *   v ← α·v + (1 − α)·d²;  centered: a ← α·a + (1 − α)·d;
 *   formula "torch": ṽ = v − a² (centered) or v;
 *     momentum > 0: b ← μ·b + d/(√ṽ + eps), w ← w − lr·b;  else w ← w − lr·d/(√ṽ + eps).
 *   formula "tfjs": x = lr·d/√(v − (a² + eps)) (centered) or lr·d/√(v + eps);
 *     momentum > 0: b ← μ·b + x, w ← w − b;  else w ← w − x.
 *   (TF.js 4.22 subtracts eps under the centered root: where v − a² < eps, a constant or zero
 *   gradient, the root is NaN and so is the weight, in tf.train.rmsprop and here alike.)
 * gc "update" adds P Δ instead, so every output unit's weight mean stays fixed.
 *
 * @example
 * const opt = new RMSprop(params, { lr: 1e-3, momentum: 0.9, centered: true });
 * opt.step();
 * // tf.train.rmsprop(1e-3, 0.9, 0.9)'s steps, with GC:
 * const tfLike = new RMSprop(params, { lr: 1e-3, alpha: 0.9, momentum: 0.9, eps: 1e-7, formula: "tfjs" });
 */
export class RMSprop extends Optimizer<RMSpropHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<RMSpropHyperparameters>[], options?: RMSpropOptions) {
    super(rmspropRule, params, options);
  }
}
