// Ranger (Wright, 2019): Lookahead around RAdam with Gradient Centralization. A composition of
// this package's RAdam rule and Lookahead, not a kernel of its own.
import { readRecord } from "../args.js";
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "./base.js";
import { Lookahead, lookaheadOptions } from "./lookahead.js";
import type { Param } from "./params.js";
import { type RAdamHyperparameters, radamRule } from "./rules/radam.js";

/** Options of `new Ranger`: RAdam's (with Ranger's defaults) and Lookahead's k and alpha. */
export interface RangerOptions extends OptimizerOptions<RAdamHyperparameters> {
  /** Inner steps between synchronizations, an integer ≥ 1; default 6. */
  k?: number;
  /** How far the slow weights move towards the fast ones, in [0, 1]; default 0.5. */
  alpha?: number;
}

/** RAdam with Ranger's defaults (betas [0.95, 0.999], eps 1e-5), named Ranger in messages. */
const rangerRule: Rule<RAdamHyperparameters> = {
  ...radamRule,
  name: "Ranger",
  defaults: { ...radamRule.defaults, betas: [0.95, 0.999], eps: 1e-5 },
};

class RangerRAdam extends Optimizer<RAdamHyperparameters> {
  constructor(params: unknown, options: unknown) {
    super(rangerRule, params, options);
  }
}

/** The options read once (own properties), split into Lookahead's k and alpha and RAdam's rest. */
function splitOptions(options: unknown): { lookahead: { k?: unknown; alpha?: unknown }; radam: Record<string, unknown> } {
  const radam = readRecord(options, "new Ranger", "options");
  const lookahead: { k?: unknown; alpha?: unknown } = {};
  if (radam.k !== undefined) lookahead.k = radam.k;
  if (radam.alpha !== undefined) lookahead.alpha = radam.alpha;
  delete radam.k;
  delete radam.alpha;
  return { lookahead, radam };
}

/**
 * Ranger = `Lookahead(RAdam(betas [0.95, 0.999], eps 1e-5), { k: 6, alpha: 0.5 })` with
 * `gc: "gradient"` by default. Per step t (RAdam, as torch.optim.RAdam), with
 * d = P(g + weightDecay·w) (gc "gradient"; gc "update" centralizes the step instead):
 *   m ← β1·m + (1 − β1)·d;  v ← β2·v + (1 − β2)·d²;  ρₜ = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ);
 *   ρₜ > 5: w ← w − lr·r·m/(1 − β1ᵗ) · √(1 − β2ᵗ)/(√v + eps);  else w ← w − lr·m/(1 − β1ᵗ);
 * and after every k-th step (Lookahead): φ ← φ + α·(w − φ), w ← φ.
 * Options: lr (1e-3, or a schedule), betas, eps, weightDecay (0), k, alpha, gc, convOnly, layout;
 * parameter groups as RAdam's. Checkpoints hold RAdam's state, the slow weights and the count.
 *
 * @example
 * const opt = new Ranger(params, { lr: 1e-3 });                      // gc: "gradient", k 6, alpha 0.5
 * const conv = new Ranger(params, { gc: "update", convOnly: true, layout: "out-last" });
 * opt.step();
 */
export class Ranger extends Lookahead<RAdamHyperparameters> {
  protected static override readonly optimizerName: string = "Ranger";

  constructor(params: readonly Param[] | readonly ParamGroupInput<RAdamHyperparameters>[], options?: RangerOptions) {
    const { lookahead, radam } = splitOptions(options);
    const { k, alpha } = lookaheadOptions(lookahead, "new Ranger", { k: 6, alpha: 0.5 });
    const inner = new RangerRAdam(params, radam);
    try {
      super(inner, { k, alpha });
    } catch (error) {
      inner.dispose();
      throw error;
    }
  }
}
