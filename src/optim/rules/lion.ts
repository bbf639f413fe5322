// Lion (Chen et al., 2023) with Gradient Centralization fused into its kernel.
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "../base.js";
import { betasCheck, gcChecks, gcDefaults, type GcHyperparameters, nonNegative } from "../hyperparameters.js";
import type { Param } from "../params.js";
import type { ParamState } from "../state.js";
import { type EntryWriter, F32, I32 } from "../table.js";

/** Lion's hyperparameters (the paper's and lucidrains/lion-pytorch's names in camelCase) plus GC's. */
export interface LionHyperparameters extends GcHyperparameters {
  /** Learning rate; default 1e-4 (Lion wants a 3–10× smaller lr than AdamW). */
  lr: number;
  /** [β1, β2], each in [0, 1): β1 interpolates the update, β2 the momentum; default [0.9, 0.99]. */
  betas: [number, number];
  /** Decoupled decay w ← w·(1 − lr·weightDecay); default 0. */
  weightDecay: number;
}

/** Options of `new Lion`. */
export type LionOptions = OptimizerOptions<LionHyperparameters>;

// f32 fields of the kernel's table entry (assembly/optim/lion.ts)
const NEG_LR = 36;
const BETA1 = 40;
const ONE_MINUS_BETA1 = 44;
const BETA2 = 48;
const ONE_MINUS_BETA2 = 52;
const DECAY = 56;
const NEG_LR_WD = 60;

const EXP_AVG = "expAvg";

const lionRule: Rule<LionHyperparameters> = {
  name: "Lion",
  kernel: "lionStep",
  defaults: { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, ...gcDefaults },
  checks: { lr: nonNegative, betas: betasCheck, weightDecay: nonNegative, ...gcChecks },
  checkGroup() {},
  bufferNames: [EXP_AVG],
  buffersFor: () => [EXP_AVG],
  writeEntry(entry: EntryWriter, group: LionHyperparameters, state: ParamState): number {
    const [beta1, beta2] = group.betas;
    const lrWd = group.lr * group.weightDecay;
    entry.int(I32.stateA, state.address(EXP_AVG));
    entry.float(F32.weightDecay, 0); // decoupled: GC centers g
    entry.float(NEG_LR, -group.lr);
    entry.float(BETA1, beta1);
    entry.float(ONE_MINUS_BETA1, 1 - beta1);
    entry.float(BETA2, beta2);
    entry.float(ONE_MINUS_BETA2, 1 - beta2);
    entry.float(DECAY, 1 - lrWd);
    entry.float(NEG_LR_WD, -lrWd);
    return 0;
  },
};

/**
 * Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms", Program 1) with GC
 * fused into the step. Per step (gc "gradient": g ← P g, each output unit's mean removed):
 *   c = β1·m + (1 − β1)·g;  w ← w·(1 − lr·weightDecay) − lr·sign(c);  m ← β2·m + (1 − β2)·g.
 * gc "update" adds P(−lr·sign(c) − lr·weightDecay·w) instead: the whole step, decay included, is
 * centralized, so every output unit's weight mean stays fixed. sign(0) = 0.
 *
 * @example
 * const opt = new Lion(params, { lr: 1e-4, weightDecay: 0.1 });
 * opt.step();
 */
export class Lion extends Optimizer<LionHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<LionHyperparameters>[], options?: LionOptions) {
    super(lionRule, params, options);
  }
}
