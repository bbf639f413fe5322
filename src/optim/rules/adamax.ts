// Adamax (torch.optim.Adamax) with Gradient Centralization fused into its kernel.
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "../base.js";
import { betasCheck, gcChecks, gcDefaults, type GcHyperparameters, nonNegative, positive } from "../hyperparameters.js";
import type { Param } from "../params.js";
import type { ParamState } from "../state.js";
import { type EntryWriter, F32, I32 } from "../table.js";

/** Adamax's hyperparameters (torch.optim.Adamax's names in camelCase) plus GC's. */
export interface AdamaxHyperparameters extends GcHyperparameters {
  /** Learning rate; default 2e-3. */
  lr: number;
  /** [β1, β2], each in [0, 1); default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to |d| in the infinity norm, > 0; default 1e-8. */
  eps: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
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

const adamaxRule: Rule<AdamaxHyperparameters> = {
  name: "Adamax",
  kernel: "adamaxStep",
  defaults: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...gcDefaults },
  checks: { lr: nonNegative, betas: betasCheck, eps: positive, weightDecay: nonNegative, ...gcChecks },
  checkGroup() {},
  bufferNames: [EXP_AVG, EXP_INF],
  buffersFor: () => [EXP_AVG, EXP_INF],
  writeEntry(entry: EntryWriter, group: AdamaxHyperparameters, state: ParamState): number {
    const [beta1, beta2] = group.betas;
    const t = state.step + 1;
    entry.int(I32.stateA, state.address(EXP_AVG));
    entry.int(I32.stateB, state.address(EXP_INF));
    entry.float(F32.weightDecay, group.weightDecay);
    entry.float(NEG_STEP_SIZE, -group.lr / (1 - beta1 ** t));
    entry.float(BETA1, beta1);
    entry.float(ONE_MINUS_BETA1, 1 - beta1);
    entry.float(BETA2, beta2);
    entry.float(EPS, group.eps);
    return 0;
  },
};

/**
 * Adamax (Kingma & Ba, 2015, the infinity-norm Adam), as torch.optim.Adamax, with GC fused into
 * the step. Per step t, with d = g + weightDecay·w (gc "gradient": d ← P d):
 *   m ← β1·m + (1 − β1)·d;  u ← max(β2·u, |d| + eps);  w ← w − lr·m/((1 − β1ᵗ)·u).
 * gc "update" adds P Δ instead, so every output unit's weight mean stays fixed.
 *
 * @example
 * const opt = new Adamax(params, { lr: 2e-3, gc: "update" });
 * opt.step();
 */
export class Adamax extends Optimizer<AdamaxHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<AdamaxHyperparameters>[], options?: AdamaxOptions) {
    super(adamaxRule, params, options);
  }
}
