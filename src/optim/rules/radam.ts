// RAdam (torch.optim.RAdam) with Gradient Centralization fused into its kernel.
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "../base.js";
import { betasCheck, gcChecks, gcDefaults, type GcHyperparameters, nonNegative, positive } from "../hyperparameters.js";
import type { Param } from "../params.js";
import type { ParamState } from "../state.js";
import { type EntryWriter, F32, I32 } from "../table.js";

/** RAdam's hyperparameters (torch.optim.RAdam's names in camelCase) plus GC's. */
export interface RAdamHyperparameters extends GcHyperparameters {
  /** Learning rate; default 1e-3. */
  lr: number;
  /** [β1, β2], each in [0, 1); default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to √v, > 0; default 1e-8. */
  eps: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
}

/** Options of `new RAdam`. */
export type RAdamOptions = OptimizerOptions<RAdamHyperparameters>;

// f32 fields and flags of the kernel's table entry (assembly/optim/radam.ts)
const NEG_STEP_SIZE = 36;
const BETA1 = 40;
const ONE_MINUS_BETA1 = 44;
const BETA2 = 48;
const ONE_MINUS_BETA2 = 52;
const EPS = 56;
const RECTIFIED = 8;

const EXP_AVG = "expAvg";
const EXP_AVG_SQ = "expAvgSq";

/**
 * RAdam's step-t scalars: ρ∞ = 2/(1 − β2) − 1, ρₜ = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ); when ρₜ > 5 the step is
 * rectified by r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)).
 *
 * @example
 * radamRectification([0.9, 0.999], 5); // { rectified: false, r: 1 }   (ρ₅ ≈ 4.996)
 * radamRectification([0.9, 0.999], 6); // { rectified: true, r: 0.0258… } (ρ₆ ≈ 5.994)
 */
export function radamRectification(betas: readonly [number, number], t: number): { rectified: boolean; r: number } {
  const beta2 = betas[1];
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = rhoInf - (2 * t * beta2 ** t) / (1 - beta2 ** t);
  if (!(rhoT > 5)) return { rectified: false, r: 1 };
  return { rectified: true, r: Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) };
}

export const radamRule: Rule<RAdamHyperparameters> = {
  name: "RAdam",
  kernel: "radamStep",
  defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...gcDefaults },
  checks: { lr: nonNegative, betas: betasCheck, eps: positive, weightDecay: nonNegative, ...gcChecks },
  checkGroup() {},
  bufferNames: [EXP_AVG, EXP_AVG_SQ],
  buffersFor: () => [EXP_AVG, EXP_AVG_SQ],
  writeEntry(entry: EntryWriter, group: RAdamHyperparameters, state: ParamState): number {
    const [beta1, beta2] = group.betas;
    const t = state.step + 1;
    const { rectified, r } = radamRectification(group.betas, t);
    const stepSize = (group.lr / (1 - beta1 ** t)) * (rectified ? r * Math.sqrt(1 - beta2 ** t) : 1);
    entry.int(I32.stateA, state.address(EXP_AVG));
    entry.int(I32.stateB, state.address(EXP_AVG_SQ));
    entry.float(F32.weightDecay, group.weightDecay);
    entry.float(NEG_STEP_SIZE, -stepSize);
    entry.float(BETA1, beta1);
    entry.float(ONE_MINUS_BETA1, 1 - beta1);
    entry.float(BETA2, beta2);
    entry.float(ONE_MINUS_BETA2, 1 - beta2);
    entry.float(EPS, group.eps);
    return rectified ? RECTIFIED : 0;
  },
};

/**
 * RAdam (Liu et al., 2020), as torch.optim.RAdam, with GC fused into the step. Per step t, with
 * d = g + weightDecay·w (gc "gradient": d ← P d, each output unit's mean removed):
 *   m ← β1·m + (1 − β1)·d;  v ← β2·v + (1 − β2)·d²;  ρₜ = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ), ρ∞ = 2/(1 − β2) − 1;
 *   ρₜ > 5: w ← w − lr·r·m/(1 − β1ᵗ) · √(1 − β2ᵗ)/(√v + eps), r = √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ));
 *   else:   w ← w − lr·m/(1 − β1ᵗ).
 * gc "update" adds P Δ instead, so every output unit's weight mean stays fixed. Both branches
 * read the moments; unlike the official RAdam_GC (whose un-rectified branch aliases exp_avg and
 * so overwrites the first moment with the step), m is never modified by the step.
 *
 * @example
 * const opt = new RAdam(params, { lr: 1e-3, gc: "gradient" });
 * opt.step();
 */
export class RAdam extends Optimizer<RAdamHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<RAdamHyperparameters>[], options?: RAdamOptions) {
    super(radamRule, params, options);
  }
}
