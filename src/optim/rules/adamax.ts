// Adamax (torch.optim.Adamax, or tf.train.adamax) with Gradient Centralization fused into its kernel.
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "../base.js";
import { type Formula, float32Power, formulaCheck } from "../formula.js";
import { betasCheck, gcChecks, gcDefaults, type GcHyperparameters, nonNegative, positive } from "../hyperparameters.js";
import type { Param } from "../params.js";
import type { ParamState } from "../state.js";
import { type EntryWriter, F32, FLAG, I32 } from "../table.js";

/** Adamax's hyperparameters (torch.optim.Adamax's names in camelCase) plus GC's. */
export interface AdamaxHyperparameters extends GcHyperparameters {
  /** Learning rate; default 2e-3. */
  lr: number;
  /** [β1, β2], each in [0, 1); default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to |d| in the infinity norm (torch) or to the norm in the step (tfjs), > 0; default 1e-8. */
  eps: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
  /** η of the decayed rate lr/(1 + (t − 1)·η) (tf.train.adamax's `decay`); default 0. */
  lrDecay: number;
  /**
   * `"torch"` (default): u ← max(β2·u, |d| + eps), w ← w − lr·m/((1 − β1ᵗ)·u).
   * `"tfjs"`: u ← max(β2·u, |d|), w ← w − lr·m/((1 − β1ᵗ)·(u + eps)), β1ᵗ kept in float32 as
   * tf.train.adamax(lr, β1, β2, eps, lrDecay) keeps it; its epsilon defaults to 1e-7 (the
   * backend's): pass it to follow it.
   */
  formula: Formula;
}

/** Options of `new Adamax`. */
export type AdamaxOptions = OptimizerOptions<AdamaxHyperparameters>;

// f32 fields of the kernel's table entry (assembly/optim/adamax.ts)
const NEG_STEP_SIZE = 36;
const BETA1 = 40;
const ONE_MINUS_BETA1 = 44;
const BETA2 = 48;
const EPS = 52;

const EXP_AVG = "expAvg";
const EXP_INF = "expInf";

const f = Math.fround;

/**
 * tf.train.adamax's scalar of step t, each operation in float32 as its ops compute it:
 * (−lr / (iteration·decay + 1)) / (1 − accBeta1), iteration = t − 1, accBeta1 = β1ᵗ in float32.
 */
function tfjsStepSize(group: AdamaxHyperparameters, t: number): number {
  const lr = f(f(-group.lr) / f(f(f(t - 1) * f(group.lrDecay)) + 1));
  return f(lr / f(1 - float32Power(group.betas[0], t)));
}

const adamaxRule: Rule<AdamaxHyperparameters> = {
  name: "Adamax",
  kernel: "adamaxStep",
  defaults: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, lrDecay: 0, formula: "torch", ...gcDefaults },
  checks: { lr: nonNegative, betas: betasCheck, eps: positive, weightDecay: nonNegative, lrDecay: nonNegative, formula: formulaCheck, ...gcChecks },
  checkGroup() {},
  bufferNames: [EXP_AVG, EXP_INF],
  buffersFor: () => [EXP_AVG, EXP_INF],
  writeEntry(entry: EntryWriter, group: AdamaxHyperparameters, state: ParamState): number {
    const [beta1, beta2] = group.betas;
    const t = state.step + 1;
    entry.int(I32.stateA, state.address(EXP_AVG));
    entry.int(I32.stateB, state.address(EXP_INF));
    entry.float(F32.weightDecay, group.weightDecay);
    entry.float(NEG_STEP_SIZE, group.formula === "tfjs" ? tfjsStepSize(group, t) : -group.lr / (1 + (t - 1) * group.lrDecay) / (1 - beta1 ** t));
    entry.float(BETA1, beta1);
    entry.float(ONE_MINUS_BETA1, 1 - beta1);
    entry.float(BETA2, beta2);
    entry.float(EPS, group.eps);
    return group.formula === "tfjs" ? FLAG.formulaTfjs : 0;
  },
};

/**
 * Adamax (Kingma & Ba, 2015, the infinity-norm Adam), as torch.optim.Adamax or tf.train.adamax,
 * with GC fused into the step. Per step t, with d = g + weightDecay·w (gc "gradient": d ← P d)
 * and clr = lr/(1 + (t − 1)·lrDecay):
 *   m ← β1·m + (1 − β1)·d;
 *   formula "torch": u ← max(β2·u, |d| + eps), w ← w − clr·m/((1 − β1ᵗ)·u);
 *   formula "tfjs":  u ← max(β2·u, |d|),       w ← w − clr·m/((1 − β1ᵗ)·(u + eps)).
 * gc "update" adds P Δ instead, so every output unit's weight mean stays fixed.
 *
 * @example
 * const opt = new Adamax(params, { lr: 2e-3, gc: "update" });
 * opt.step();
 * // tf.train.adamax(2e-3, 0.9, 0.999)'s steps, with GC:
 * const tfLike = new Adamax(params, { lr: 2e-3, eps: 1e-7, formula: "tfjs" });
 */
export class Adamax extends Optimizer<AdamaxHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<AdamaxHyperparameters>[], options?: AdamaxOptions) {
    super(adamaxRule, params, options);
  }
}
