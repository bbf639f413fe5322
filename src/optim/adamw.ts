// AdamW (torch.optim.AdamW): Adam with decoupled weight decay, GC fused into its kernel.
import { adamRule, type AdamHyperparameters, type AdamOptions } from "./adam.js";
import { Optimizer, type ParamGroupInput } from "./base.js";
import type { Param } from "./params.js";

/** Options of `new AdamW` (weightDecay defaults to 1e-2). */
export type AdamWOptions = AdamOptions;

/**
 * AdamW, as torch.optim.AdamW, with GC fused into the step. Per step t:
 *   gc "gradient": g ← P g (each output unit's mean removed) before the moments;
 *   m, v, v̂ as Adam (no L2 term);  Δ = −lr/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + eps);
 *   w ← w·(1 − lr·weightDecay) + Δ.
 * gc "update" adds P(Δ − lr·weightDecay·w) instead: the whole step, decay included, is
 * centralized, so every output unit's weight mean stays fixed.
 * Unlike the official GC repository's AdamW (which scales the decay by lr / (1 − β1ᵗ) and
 * centralizes it with the Adam step), the decay follows torch.optim.AdamW, so with gc: false
 * this is exactly torch's AdamW.
 *
 * @example
 * const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.05, gc: "update" });
 * opt.step();
 */
export class AdamW extends Optimizer<AdamHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<AdamHyperparameters>[], options?: AdamWOptions) {
    super(adamRule("AdamW", true), params, options);
  }
}
