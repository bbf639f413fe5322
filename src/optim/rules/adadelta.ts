// Adadelta (torch.optim.Adadelta, or tf.train.adadelta) with Gradient Centralization fused into its kernel.
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "../base.js";
import { type Formula, formulaCheck } from "../formula.js";
import { gcChecks, gcDefaults, type GcHyperparameters, nonNegative, positive, unitInterval } from "../hyperparameters.js";
import type { Param } from "../params.js";
import type { ParamState } from "../state.js";
import { type EntryWriter, F32, FLAG, I32 } from "../table.js";

/** Adadelta's hyperparameters (torch.optim.Adadelta's names in camelCase) plus GC's. */
export interface AdadeltaHyperparameters extends GcHyperparameters {
  /** Scales the delta; default 1.0. */
  lr: number;
  /** Decay of the running averages, in [0, 1]; default 0.9. */
  rho: number;
  /** Added inside both square roots, > 0; default 1e-6. */
  eps: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
  /**
   * `"torch"` (default): δ divides by √(v + eps) with v this step's square average.  `"tfjs"`: by
   * the square average before this step's update, as tf.train.adadelta(lr, rho, eps) does (its
   * defaults: lr 1e-3, rho 0.95, eps 1e-7; pass them to follow it).
   */
  formula: Formula;
}

/** Options of `new Adadelta`. */
export type AdadeltaOptions = OptimizerOptions<AdadeltaHyperparameters>;

// f32 fields of the kernel's table entry (assembly/optim/adadelta.ts)
const NEG_LR = 36;
const RHO = 40;
const ONE_MINUS_RHO = 44;
const EPS = 48;

const SQUARE_AVG = "squareAvg";
const ACC_DELTA = "accDelta";

const adadeltaRule: Rule<AdadeltaHyperparameters> = {
  name: "Adadelta",
  kernel: "adadeltaStep",
  defaults: { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, formula: "torch", ...gcDefaults },
  checks: { lr: nonNegative, rho: unitInterval, eps: positive, weightDecay: nonNegative, formula: formulaCheck, ...gcChecks },
  checkGroup() {},
  bufferNames: [SQUARE_AVG, ACC_DELTA],
  buffersFor: () => [SQUARE_AVG, ACC_DELTA],
  writeEntry(entry: EntryWriter, group: AdadeltaHyperparameters, state: ParamState): number {
    entry.int(I32.stateA, state.address(SQUARE_AVG));
    entry.int(I32.stateB, state.address(ACC_DELTA));
    entry.float(F32.weightDecay, group.weightDecay);
    entry.float(NEG_LR, -group.lr);
    entry.float(RHO, group.rho);
    entry.float(ONE_MINUS_RHO, 1 - group.rho);
    entry.float(EPS, group.eps);
    return group.formula === "tfjs" ? FLAG.formulaTfjs : 0;
  },
};

/**
 * Adadelta (Zeiler, 2012), as torch.optim.Adadelta or tf.train.adadelta, with GC fused into the
 * step. Per step, with d = g + weightDecay·w (gc "gradient": d ← P d, each output unit's mean removed):
 *   v₀ = v;  v ← ρ·v + (1 − ρ)·d²;
 *   formula "torch": δ = √(u + eps)/√(v + eps) · d;  formula "tfjs": δ = √(u + eps)/√(v₀ + eps) · d;
 *   u ← ρ·u + (1 − ρ)·δ²;  w ← w − lr·δ.
 * gc "update" adds P(−lr·δ) instead, so every output unit's weight mean stays fixed.
 *
 * @example
 * const opt = new Adadelta(params); // lr 1.0, rho 0.9
 * opt.step();
 * // tf.train.adadelta()'s steps, with GC:
 * const tfLike = new Adadelta(params, { lr: 1e-3, rho: 0.95, eps: 1e-7, formula: "tfjs" });
 */
export class Adadelta extends Optimizer<AdadeltaHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<AdadeltaHyperparameters>[], options?: AdadeltaOptions) {
    super(adadeltaRule, params, options);
  }
}
