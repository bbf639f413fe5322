// Adagrad (torch.optim.Adagrad, or tf.train.adagrad) with Gradient Centralization fused into its kernel.
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "../base.js";
import { type Formula, formulaCheck } from "../formula.js";
import { gcChecks, gcDefaults, type GcHyperparameters, nonNegative, positive } from "../hyperparameters.js";
import type { Param } from "../params.js";
import type { ParamState } from "../state.js";
import { type EntryWriter, F32, FLAG, I32 } from "../table.js";

/** Adagrad's hyperparameters (torch.optim.Adagrad's names in camelCase) plus GC's. */
export interface AdagradHyperparameters extends GcHyperparameters {
  /** Learning rate; default 1e-2. */
  lr: number;
  /** η of the decayed rate lr/(1 + (t − 1)·η); default 0. */
  lrDecay: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
  /** The sum of squares before the first step, ≥ 0; default 0. */
  initialAccumulatorValue: number;
  /** Added to √sum (torch) or to sum (tfjs), > 0; default 1e-10. */
  eps: number;
  /**
   * `"torch"` (default): w ← w − clr·d/(√sum + eps).  `"tfjs"`: w ← w − clr·d/√(sum + eps), as
   * tf.train.adagrad(lr) does with initialAccumulatorValue 0.1 and eps 1e-7 (its backend's
   * epsilon): pass those two as well to follow it.
   */
  formula: Formula;
}

/** Options of `new Adagrad`. */
export type AdagradOptions = OptimizerOptions<AdagradHyperparameters>;

// f32 fields and flags of the kernel's table entry (assembly/optim/adagrad.ts)
const NEG_CLR = 36;
const EPS = 40;
const INITIAL = 44;
const FIRST_STEP = 8;

const SUM = "sum";

const adagradRule: Rule<AdagradHyperparameters> = {
  name: "Adagrad",
  kernel: "adagradStep",
  defaults: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, formula: "torch", ...gcDefaults },
  checks: { lr: nonNegative, lrDecay: nonNegative, weightDecay: nonNegative, initialAccumulatorValue: nonNegative, eps: positive, formula: formulaCheck, ...gcChecks },
  checkGroup() {},
  bufferNames: [SUM],
  buffersFor: () => [SUM],
  writeEntry(entry: EntryWriter, group: AdagradHyperparameters, state: ParamState, created: readonly string[]): number {
    const t = state.step + 1;
    entry.int(I32.stateA, state.address(SUM));
    entry.float(F32.weightDecay, group.weightDecay);
    entry.float(NEG_CLR, -group.lr / (1 + (t - 1) * group.lrDecay));
    entry.float(EPS, group.eps);
    entry.float(INITIAL, group.initialAccumulatorValue);
    return (created.includes(SUM) ? FIRST_STEP : 0) | (group.formula === "tfjs" ? FLAG.formulaTfjs : 0);
  },
};

/**
 * Adagrad (Duchi et al., 2011), as torch.optim.Adagrad or tf.train.adagrad, with GC fused into the
 * step (the official GC repository's Adagrad_GC centers the same d). Per step t, with
 * d = g + weightDecay·w (gc "gradient": d ← P d, each output unit's mean removed) and
 * clr = lr/(1 + (t − 1)·lrDecay):
 *   sum ← sum + d² (sum starts at initialAccumulatorValue);
 *   formula "torch": w ← w − clr·d/(√sum + eps);  formula "tfjs": w ← w − clr·d/√(sum + eps).
 * gc "update" adds P Δ instead, so every output unit's weight mean stays fixed.
 *
 * @example
 * const opt = new Adagrad(params, { lr: 0.01, initialAccumulatorValue: 0.1 });
 * opt.step();
 * // tf.train.adagrad(0.01)'s steps, with GC:
 * const tfLike = new Adagrad(params, { lr: 0.01, formula: "tfjs", initialAccumulatorValue: 0.1, eps: 1e-7 });
 */
export class Adagrad extends Optimizer<AdagradHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<AdagradHyperparameters>[], options?: AdagradOptions) {
    super(adagradRule, params, options);
  }
}
