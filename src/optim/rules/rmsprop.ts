// RMSprop (torch.optim.RMSprop) with Gradient Centralization fused into its kernel.
import { isBoolean } from "../../checks.js";
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "../base.js";
import { gcChecks, gcDefaults, type GcHyperparameters, nonNegative, positive, unitInterval } from "../hyperparameters.js";
import type { Param } from "../params.js";
import type { ParamState } from "../state.js";
import { type EntryWriter, F32, I32 } from "../table.js";

/** RMSprop's hyperparameters (torch.optim.RMSprop's names in camelCase) plus GC's. */
export interface RMSpropHyperparameters extends GcHyperparameters {
  /** Learning rate; default 1e-2. */
  lr: number;
  /** Decay of the square average, in [0, 1]; default 0.99. */
  alpha: number;
  /** Added to the root, > 0; default 1e-8. */
  eps: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
  /** μ of the momentum buffer; default 0 (none). */
  momentum: number;
  /** Normalize by the variance estimate v − a² (a: the gradient average) instead of v; default false. */
  centered: boolean;
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

const rmspropRule: Rule<RMSpropHyperparameters> = {
  name: "RMSprop",
  kernel: "rmspropStep",
  defaults: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, ...gcDefaults },
  checks: {
    lr: nonNegative,
    alpha: unitInterval,
    eps: positive,
    weightDecay: nonNegative,
    momentum: nonNegative,
    centered: isBoolean,
    ...gcChecks,
  },
  checkGroup() {},
  bufferNames: [SQUARE_AVG, MOMENTUM_BUFFER, GRAD_AVG],
  buffersFor: (group) => [SQUARE_AVG, ...(group.momentum > 0 ? [MOMENTUM_BUFFER] : []), ...(group.centered ? [GRAD_AVG] : [])],
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
    return (group.centered ? CENTERED : 0) | (group.momentum > 0 ? HAS_MOMENTUM : 0);
  },
};

/**
 * RMSprop (Hinton, 2012), as torch.optim.RMSprop, with GC fused into the step. Per step, with
 * d = g + weightDecay·w (gc "gradient": d ← P d, each output unit's mean removed):
 *   v ← α·v + (1 − α)·d²;  centered: a ← α·a + (1 − α)·d, ṽ = v − a², else ṽ = v;
 *   momentum > 0: b ← μ·b + d/(√ṽ + eps), w ← w − lr·b;  else w ← w − lr·d/(√ṽ + eps).
 * gc "update" adds P Δ instead, so every output unit's weight mean stays fixed.
 *
 * @example
 * const opt = new RMSprop(params, { lr: 1e-3, momentum: 0.9, centered: true });
 * opt.step();
 */
export class RMSprop extends Optimizer<RMSpropHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<RMSpropHyperparameters>[], options?: RMSpropOptions) {
    super(rmspropRule, params, options);
  }
}
