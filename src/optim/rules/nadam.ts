// NAdam (torch.optim.NAdam) with Gradient Centralization fused into its kernel.
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "../base.js";
import { betasCheck, gcChecks, gcDefaults, type GcHyperparameters, nonNegative, positive } from "../hyperparameters.js";
import type { Param } from "../params.js";
import type { ParamState } from "../state.js";
import { type EntryWriter, F32, I32 } from "../table.js";

/** NAdam's hyperparameters (torch.optim.NAdam's names in camelCase) plus GC's. */
export interface NAdamHyperparameters extends GcHyperparameters {
  /** Learning rate; default 2e-3. */
  lr: number;
  /** [β1, β2], each in [0, 1); default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to √v̂, > 0; default 1e-8. */
  eps: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
  /** ψ of the momentum schedule μₜ = β1·(1 − ½·0.96^(tψ)); default 4e-3. */
  momentumDecay: number;
}

/** Options of `new NAdam`. */
export type NAdamOptions = OptimizerOptions<NAdamHyperparameters>;

// f32 fields of the kernel's table entry (assembly/optim/nadam.ts)
const COEF_D = 36;
const COEF_M = 40;
const BETA1 = 44;
const ONE_MINUS_BETA1 = 48;
const BETA2 = 52;
const ONE_MINUS_BETA2 = 56;
const EPS = 60;
const INV_BC2_SQRT = 64;

const EXP_AVG = "expAvg";
const EXP_AVG_SQ = "expAvgSq";
const MU_PRODUCT = "muProduct";

/** μₜ, μₜ₊₁ and Πᵢ≤ₜ μᵢ of step t = state.step + 1 (the product kept in float64 as state). */
function momentumSchedule(group: NAdamHyperparameters, state: ParamState) {
  const beta1 = group.betas[0];
  const t = state.step + 1;
  const mu = beta1 * (1 - 0.5 * 0.96 ** (t * group.momentumDecay));
  const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * group.momentumDecay));
  return { t, mu, muNext, product: (state.scalars.get(MU_PRODUCT) ?? 1) * mu };
}

const nadamRule: Rule<NAdamHyperparameters> = {
  name: "NAdam",
  kernel: "nadamStep",
  defaults: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, ...gcDefaults },
  checks: { lr: nonNegative, betas: betasCheck, eps: positive, weightDecay: nonNegative, momentumDecay: nonNegative, ...gcChecks },
  checkGroup() {},
  bufferNames: [EXP_AVG, EXP_AVG_SQ],
  buffersFor: () => [EXP_AVG, EXP_AVG_SQ],
  scalarNames: [MU_PRODUCT],
  writeEntry(entry: EntryWriter, group: NAdamHyperparameters, state: ParamState): number {
    const [beta1, beta2] = group.betas;
    const { t, mu, muNext, product } = momentumSchedule(group, state);
    entry.int(I32.stateA, state.address(EXP_AVG));
    entry.int(I32.stateB, state.address(EXP_AVG_SQ));
    entry.float(F32.weightDecay, group.weightDecay);
    entry.float(COEF_D, (-group.lr * (1 - mu)) / (1 - product));
    entry.float(COEF_M, (-group.lr * muNext) / (1 - product * muNext));
    entry.float(BETA1, beta1);
    entry.float(ONE_MINUS_BETA1, 1 - beta1);
    entry.float(BETA2, beta2);
    entry.float(ONE_MINUS_BETA2, 1 - beta2);
    entry.float(EPS, group.eps);
    entry.float(INV_BC2_SQRT, 1 / Math.sqrt(1 - beta2 ** t));
    return 0;
  },
  scalarsAfter: (group, state) => ({ [MU_PRODUCT]: momentumSchedule(group, state).product }),
};

/**
 * NAdam (Dozat, 2016), as torch.optim.NAdam, with GC fused into the step. Per step t, with
 * d = g + weightDecay·w (gc "gradient": d ← P d, each output unit's mean removed):
 *   μₜ = β1·(1 − ½·0.96^(t·momentumDecay));  m ← β1·m + (1 − β1)·d;  v ← β2·v + (1 − β2)·d²;
 *   w ← w − lr·(μₜ₊₁·m/(1 − Πᵢ≤ₜ₊₁ μᵢ) + (1 − μₜ)·d/(1 − Πᵢ≤ₜ μᵢ)) / (√(v/(1 − β2ᵗ)) + eps).
 * gc "update" adds P Δ instead, so every output unit's weight mean stays fixed. The μ-product is
 * state (`muProduct` in checkpoints, float64; torch keeps it as a float32 tensor).
 *
 * @example
 * const opt = new NAdam(params, { lr: 2e-3 });
 * opt.step();
 */
export class NAdam extends Optimizer<NAdamHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<NAdamHyperparameters>[], options?: NAdamOptions) {
    super(nadamRule, params, options);
  }
}
