// Adam (torch.optim.Adam) with Gradient Centralization fused into its kernel; AdamW shares the rule.
import { isBoolean } from "../checks.js";
import type { Layout } from "../layout.js";
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "./base.js";
import type { Param } from "./params.js";
import { type Formula, float32Power, formulaCheck } from "./formula.js";
import { betasCheck, gcChecks, gcDefaults, type GcHyperparameters, nonNegative, positive } from "./hyperparameters.js";
import type { ParamState } from "./state.js";
import { type EntryWriter, F32, FLAG, I32 } from "./table.js";

/** Adam's hyperparameters (torch.optim.Adam's names in camelCase) plus GC's. */
export interface AdamHyperparameters extends GcHyperparameters {
  /** Learning rate; default 1e-3. */
  lr: number;
  /** [β1, β2], each in [0, 1); default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to the denominator, > 0; default 1e-8. */
  eps: number;
  /** Adam: L2 penalty added to the gradient, default 0. AdamW: decoupled decay, default 1e-2. */
  weightDecay: number;
  /** Use the running maximum of the second moment (AMSGrad); default false. */
  amsgrad: boolean;
  /**
   * `"torch"` (default): the bias corrections 1 − βᵗ in float64.  `"tfjs"`: βᵗ as tf.train.adam
   * keeps it, a float32 product updated each step (1 − β2ᵗ differs by up to 3·10⁻⁵ relative in the
   * first steps), and its operations: Δ = (m/(1 − β1ᵗ))/(√(v̂/(1 − β2ᵗ)) + eps)·(−lr), the same
   * formula. tf.train.adam's epsilon defaults to 1e-7: pass it too.
   */
  formula: Formula;
}

/** Options of `new Adam` and `new AdamW`. */
export type AdamOptions = OptimizerOptions<AdamHyperparameters>;

const EXP_AVG = "expAvg";
const EXP_AVG_SQ = "expAvgSq";
const MAX_EXP_AVG_SQ = "maxExpAvgSq";

/** The Adam rule; `decoupled` makes it AdamW's (decay p ← p·(1 − lr·wd) instead of L2). */
export function adamRule(name: string, decoupled: boolean): Rule<AdamHyperparameters> {
  return {
    name,
    kernel: "adamStep",
    defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: decoupled ? 1e-2 : 0, amsgrad: false, formula: "torch", ...gcDefaults },
    checks: {
      lr: nonNegative,
      betas: betasCheck,
      eps: positive,
      weightDecay: nonNegative,
      amsgrad: isBoolean,
      formula: formulaCheck,
      ...gcChecks,
    },
    checkGroup() {},
    bufferNames: [EXP_AVG, EXP_AVG_SQ, MAX_EXP_AVG_SQ],
    buffersFor: (group) => (group.amsgrad ? [EXP_AVG, EXP_AVG_SQ, MAX_EXP_AVG_SQ] : [EXP_AVG, EXP_AVG_SQ]),
    writeEntry(entry: EntryWriter, group: AdamHyperparameters, state: ParamState, _created: readonly string[], units: Layout | undefined): number {
      const [beta1, beta2] = group.betas;
      const t = state.step + 1;
      const lrWd = decoupled ? group.lr * group.weightDecay : 0;
      entry.int(I32.stateA, state.address(EXP_AVG));
      entry.int(I32.stateB, state.address(EXP_AVG_SQ));
      entry.int(I32.stateC, group.amsgrad ? state.address(MAX_EXP_AVG_SQ) : 0);
      entry.float(F32.weightDecay, decoupled ? 0 : group.weightDecay);
      const tfjs = group.formula === "tfjs";
      // tf.train.adam's sub(1, accBeta) of its float32 products
      const bc1 = tfjs ? Math.fround(1 - float32Power(beta1, t)) : 1 - beta1 ** t;
      const bc2 = tfjs ? Math.fround(1 - float32Power(beta2, t)) : 1 - beta2 ** t;
      // tf.train.adam's operations (three divisions per value) only where its bits can be matched:
      // a parameter GC centers has no tf.train trajectory, and steps by torch's operations with
      // these bias corrections (the same Δ, one division per value).
      const tfjsOperations = tfjs && units === undefined;
      entry.float(F32.negStepSize, tfjsOperations ? -group.lr : -group.lr / bc1);
      entry.float(F32.beta1, beta1);
      entry.float(F32.oneMinusBeta1, 1 - beta1);
      entry.float(F32.beta2, beta2);
      entry.float(F32.oneMinusBeta2, 1 - beta2);
      entry.float(F32.eps, group.eps);
      entry.float(F32.bc2Sqrt, Math.sqrt(bc2));
      entry.float(F32.bc1, bc1);
      entry.float(F32.bc2, bc2);
      entry.float(F32.decay, 1 - lrWd);
      entry.float(F32.negLrWd, -lrWd);
      return (group.amsgrad ? FLAG.amsgrad : 0) | (tfjsOperations ? FLAG.formulaTfjs : 0);
    },
  };
}

/**
 * Adam, as torch.optim.Adam, with GC fused into the step. Per step t, with d = g + weightDecay·w:
 *   gc "gradient": d ← P d (each output unit's mean removed), the official Adam_GC;
 *   m ← β1·m + (1 − β1)·d;  v ← β2·v + (1 − β2)·d²;  v̂ = amsgrad ? max(v̂, v) : v;
 *   Δ = −lr/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + eps);  w ← w + Δ.
 * gc "update" adds P Δ instead (the official Adam_GC2), so every output unit's weight mean stays
 * fixed. Rank ≤ 1 parameters and parameters with `gc: false` are not centralized.
 * `formula: "tfjs"` keeps β1ᵗ and β2ᵗ in float32 as tf.train.adam does (the same formula otherwise):
 * `new Adam(params, { lr, eps: 1e-7, formula: "tfjs", gc: false })` steps as tf.train.adam(lr), in
 * its operations. A parameter GC centers has no tf.train trajectory to match: it steps by the
 * operations above (one division per value instead of tf.train.adam's three).
 *
 * @example
 * const opt = new Adam([{ value: w, grad: dw }, { value: b, grad: db }], { lr: 1e-3, gc: "gradient" });
 * for (const batch of batches) {
 *   computeGradients(batch);   // fills dw, db
 *   opt.step();
 * }
 */
export class Adam extends Optimizer<AdamHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<AdamHyperparameters>[], options?: AdamOptions) {
    super(adamRule("Adam", false), params, options);
  }
}
