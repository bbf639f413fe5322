// Every rule of the TF.js entry as pure TF.js ops: (direction d, state, hyperparameters, step) →
// (Δ, new state). tf.train's seven repeat tf.train's own ops in tf.train's order (same float32
// results: with gc off and no decay, the same trajectory bit for bit); AdamW, RAdam, NAdam and
// Lion follow the main entry's kernels (assembly/optim/*.ts), in their order of float32 operations.
// Ranger is RAdam's rule with Lookahead's synchronization after every k-th step. Weight decay and GC
// are the engine's (ops.ts): d arrives as g + wd·w (L2) or g (decoupled), centered or not.
import {
  abs, add, div, maximum, mul, neg, scalar, sign, sqrt, square, sub, type Tensor,
} from "@tensorflow/tfjs-core";
import type { RuleHyperparameters, RuleName } from "./engine.js";

/** One step's scalars: this step's learning rate and t (1-based). */
export interface StepScalars {
  readonly lr: number;
  readonly t: number;
}

/** A rule's state: one tensor per slot (`m`, `v`, `accumulator`, ...), each of the weight's shape. */
export type SlotState = Readonly<Record<string, Tensor>>;

/** A rule as pure TF.js ops. */
export interface OpsRule<H> {
  /** The state slots, in tf.train's order (its getWeights order). */
  slots(h: H): readonly string[];
  /** A slot's initial value: a number (0 but Adagrad's accumulator) or "weights" (Ranger's slow weights). */
  initial(slot: string, h: H): number | "weights";
  /** Decoupled weight decay (w ← w·(1 − lr·wd) + Δ, GC on g), else L2 (d = g + wd·w). */
  readonly decoupled: boolean;
  /** Δ (so that w ← w + Δ) and the new state, from the direction d and the old state. */
  step(d: Tensor, state: SlotState, h: H, s: StepScalars): { delta: Tensor; state: Record<string, Tensor> };
  /** After the step (Lookahead): the final weights and state from the stepped weights `value`. */
  sync?(value: Tensor, state: SlotState, h: H, s: StepScalars): { value: Tensor; state: Record<string, Tensor> };
  /** Scalars a checkpoint carries beside the slots (NAdam's `mu_product`), derived from t. */
  scalars?(h: H, t: number): Record<string, number>;
}

const zero = () => 0;
type H<R extends RuleName> = RuleHyperparameters[R];

/**
 * β^t as tf.train keeps it: a float32 variable starting at β, multiplied by β (in float32) after
 * every step. The last value per β is remembered, so step t + 1 costs one multiplication.
 */
const powers = new Map<number, { t: number; value: number }>();
function float32Power(beta: number, t: number): number {
  const b = Math.fround(beta);
  let last = powers.get(beta);
  if (last === undefined || last.t > t) last = { t: 1, value: b };
  let { t: k, value } = last;
  for (; k < t; k++) value = Math.fround(value * b);
  powers.set(beta, { t, value });
  return value;
}

/** tf.train.sgd: Δ = −lr·d. */
const sgd: OpsRule<H<"sgd">> = {
  slots: () => [],
  initial: zero,
  decoupled: false,
  step: (d, _state, _h, { lr }) => ({ delta: mul(scalar(-lr), d), state: {} }),
};

/** tf.train.momentum: a ← μ·a + d; Δ = −lr·a, Nesterov: Δ = −lr·(d + μ·a). */
const momentum: OpsRule<H<"momentum">> = {
  slots: () => ["momentum"],
  initial: zero,
  decoupled: false,
  step(d, state, h, { lr }) {
    const c = scalar(-lr);
    const mu = scalar(h.momentum);
    const a = add(mul(mu, state.momentum), d);
    const delta = h.useNesterov ? mul(c, add(d, mul(a, mu))) : mul(c, a);
    return { delta, state: { momentum: a } };
  },
};

/** tf.train.adam: m, v as Adam; Δ = −lr·(m/(1 − β1ᵗ)) / (√(v/(1 − β2ᵗ)) + ε), β^t kept in float32. */
const adam: OpsRule<H<"adam">> = {
  slots: () => ["m", "v"],
  initial: zero,
  decoupled: false,
  step(d, state, h, { lr, t }) {
    const oneMinusAccBeta1 = sub(1, scalar(float32Power(h.beta1, t)));
    const oneMinusAccBeta2 = sub(1, scalar(float32Power(h.beta2, t)));
    const m = add(mul(state.m, h.beta1), mul(d, 1 - h.beta1));
    const v = add(mul(state.v, h.beta2), mul(square(d), 1 - h.beta2));
    const mHat = div(m, oneMinusAccBeta1);
    const vHat = div(v, oneMinusAccBeta2);
    return { delta: mul(div(mHat, add(sqrt(vHat), h.epsilon)), -lr), state: { m, v } };
  },
};

/** tf.train.adamax: m as Adam, u ← max(β2·u, |d|); Δ = −lrₜ/(1 − β1ᵗ) · m/(u + ε), lrₜ = lr/(1 + (t − 1)·decay). */
const adamax: OpsRule<H<"adamax">> = {
  slots: () => ["m", "v"],
  initial: zero,
  decoupled: false,
  step(d, state, h, { lr, t }) {
    const oneMinusAccBeta1 = sub(1, scalar(float32Power(h.beta1, t)));
    const lrT = div(-lr, add(mul(scalar(t - 1), h.decay), 1));
    const m = add(mul(state.m, h.beta1), mul(d, 1 - h.beta1));
    const u = maximum(mul(state.v, h.beta2), abs(d));
    return { delta: mul(div(lrT, oneMinusAccBeta1), div(m, add(u, h.epsilon))), state: { m, v: u } };
  },
};

/** tf.train.adagrad: s ← s + d² (s starts at initialAccumulatorValue); Δ = −lr·d/√(s + ε). */
const adagrad: OpsRule<H<"adagrad">> = {
  slots: () => ["accumulator"],
  initial: (_slot, h) => h.initialAccumulatorValue,
  decoupled: false,
  step(d, state, h, { lr }) {
    const accumulator = add(state.accumulator, square(d));
    return { delta: mul(div(d, sqrt(add(accumulator, h.epsilon))), -lr), state: { accumulator } };
  },
};

/**
 * tf.train.adadelta: g² ← ρ·g² + (1 − ρ)·d²; u = √(x² + ε)/√(g²_old + ε)·d (tf.train divides by
 * the accumulator before this step's update); x² ← ρ·x² + (1 − ρ)·u²; Δ = −lr·u.
 */
const adadelta: OpsRule<H<"adadelta">> = {
  slots: () => ["accum_grad", "accum_var"],
  initial: zero,
  decoupled: false,
  step(d, state, h, { lr }) {
    const accumGrad = add(mul(state.accum_grad, h.rho), mul(square(d), 1 - h.rho));
    const updates = mul(div(sqrt(add(state.accum_var, h.epsilon)), sqrt(add(state.accum_grad, h.epsilon))), d);
    const accumVar = add(mul(state.accum_var, h.rho), mul(square(updates), 1 - h.rho));
    return { delta: mul(updates, -lr), state: { accum_grad: accumGrad, accum_var: accumVar } };
  },
};

/**
 * tf.train.rmsprop: r ← ρ·r + (1 − ρ)·d²; plain: a ← μ·a + lr·d/√(r + ε); centered: g ← ρ·g + (1 − ρ)·d,
 * a ← μ·a + lr·d/√(r − (g² + ε)); Δ = −a (ρ: `decay`, μ: `momentum`).
 */
const rmsprop: OpsRule<H<"rmsprop">> = {
  slots: (h) => (h.centered ? ["rms", "momentum", "mg"] : ["rms", "momentum"]),
  initial: zero,
  decoupled: false,
  step(d, state, h, { lr }): { delta: Tensor; state: Record<string, Tensor> } {
    const rms = add(mul(state.rms, h.decay), mul(square(d), 1 - h.decay));
    if (h.centered) {
      const mg = add(mul(state.mg, h.decay), mul(d, 1 - h.decay));
      const contribution = div(mul(d, lr), sqrt(sub(rms, add(square(mg), h.epsilon))));
      const a = add(mul(state.momentum, h.momentum), contribution);
      return { delta: neg(a), state: { rms, momentum: a, mg } };
    }
    const a = add(mul(state.momentum, h.momentum), div(mul(d, lr), sqrt(add(rms, h.epsilon))));
    return { delta: neg(a), state: { rms, momentum: a } };
  },
};

/** The first and second moments as the main entry's kernels advance them (m, v of d). */
function moments(d: Tensor, state: SlotState, [beta1, beta2]: readonly [number, number]) {
  return {
    m: add(mul(state.m, beta1), mul(d, 1 - beta1)),
    v: add(mul(state.v, beta2), mul(square(d), 1 - beta2)),
  };
}

/**
 * AdamW as the main entry's kernel (torch.optim.AdamW): m, v of g; v̂ = amsgrad ? max(v̂, v) : v;
 * Δ = −lr/(1 − β1ᵗ) · m/(√v̂/√(1 − β2ᵗ) + eps) (decay decoupled: the engine's).
 */
const adamw: OpsRule<H<"adamw">> = {
  slots: (h) => (h.amsgrad ? ["m", "v", "vhat"] : ["m", "v"]),
  initial: zero,
  decoupled: true,
  step(d, state, h, { lr, t }) {
    const { m, v } = moments(d, state, h.betas);
    const next: Record<string, Tensor> = { m, v };
    if (h.amsgrad) next.vhat = maximum(state.vhat, v);
    const negStepSize = -lr / (1 - h.betas[0] ** t);
    const invBc2 = 1 / Math.fround(Math.sqrt(1 - h.betas[1] ** t));
    const denominator = add(mul(sqrt(h.amsgrad ? next.vhat : v), invBc2), h.eps);
    return { delta: mul(negStepSize, div(m, denominator)), state: next };
  },
};

/**
 * RAdam as the main entry (torch.optim.RAdam): ρ∞ = 2/(1 − β2) − 1, ρₜ = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ);
 * ρₜ > 5: Δ = −lr·r·√(1 − β2ᵗ)/(1 − β1ᵗ) · m/(√v + eps), r = √((ρₜ−4)(ρₜ−2)ρ∞/((ρ∞−4)(ρ∞−2)ρₜ)); else Δ = −lr/(1 − β1ᵗ)·m.
 * (The scalars of src/optim/rules/radam.ts's radamRectification, which the tfjs bundle does not import.)
 */
const radam: OpsRule<H<"radam">> = {
  slots: () => ["m", "v"],
  initial: zero,
  decoupled: false,
  step(d, state, h, { lr, t }) {
    const [beta1, beta2] = h.betas;
    const { m, v } = moments(d, state, h.betas);
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * t * beta2 ** t) / (1 - beta2 ** t);
    const stepSize = lr / (1 - beta1 ** t);
    if (!(rhoT > 5)) return { delta: mul(-stepSize, m), state: { m, v } };
    const r = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
    const negStepSize = -stepSize * r * Math.sqrt(1 - beta2 ** t);
    return { delta: mul(negStepSize, div(m, add(sqrt(v), h.eps))), state: { m, v } };
  },
};

/**
 * Πᵢ≤ₜ μᵢ of NAdam's schedule μᵢ = β1·(1 − ½·0.96^(iψ)), multiplied in float64 in the main entry's
 * order (the last product per (β1, ψ) remembered, so step t + 1 costs one multiplication).
 *
 * @example
 * nadamMuProduct(0.9, 4e-3, 1); // 0.9·(1 − ½·0.96^0.004) ≈ 0.45007
 */
const muProducts = new Map<string, { t: number; value: number }>();
export function nadamMuProduct(beta1: number, psi: number, t: number): number {
  const key = `${beta1},${psi}`;
  let last = muProducts.get(key);
  if (last === undefined || last.t > t) last = { t: 0, value: 1 };
  let { t: k, value } = last;
  for (; k < t; k++) value *= beta1 * (1 - 0.5 * 0.96 ** ((k + 1) * psi));
  muProducts.set(key, { t, value });
  return value;
}

/**
 * NAdam as the main entry (torch.optim.NAdam): μₜ = β1·(1 − ½·0.96^(tψ)); m, v as Adam;
 * Δ = (coefD·d + coefM·m)/(√v/√(1 − β2ᵗ) + eps), coefD = −lr(1 − μₜ)/(1 − Πᵢ≤ₜ μᵢ), coefM = −lr·μₜ₊₁/(1 − Πᵢ≤ₜ₊₁ μᵢ).
 * The μ-product follows from t; checkpoints carry it as `mu_product` (as the kernels engine's do).
 */
const nadam: OpsRule<H<"nadam">> = {
  slots: () => ["m", "v"],
  initial: zero,
  decoupled: false,
  step(d, state, h, { lr, t }) {
    const [beta1, beta2] = h.betas;
    const { m, v } = moments(d, state, h.betas);
    const mu = beta1 * (1 - 0.5 * 0.96 ** (t * h.momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * h.momentumDecay));
    const product = nadamMuProduct(beta1, h.momentumDecay, t);
    const coefD = (-lr * (1 - mu)) / (1 - product);
    const coefM = (-lr * muNext) / (1 - product * muNext);
    const invBc2 = 1 / Math.sqrt(1 - beta2 ** t);
    const denominator = add(mul(sqrt(v), invBc2), h.eps);
    return { delta: div(add(mul(coefD, d), mul(coefM, m)), denominator), state: { m, v } };
  },
  scalars: (h, t) => ({ mu_product: nadamMuProduct(h.betas[0], h.momentumDecay, t) }),
};

/** Lion (Chen et al., 2023): c = β1·m + (1 − β1)·g; Δ = −lr·sign(c); m ← β2·m + (1 − β2)·g (decay decoupled). */
const lion: OpsRule<H<"lion">> = {
  slots: () => ["m"],
  initial: zero,
  decoupled: true,
  step(g, state, h, { lr }) {
    const [beta1, beta2] = h.betas;
    const c = add(mul(state.m, beta1), mul(g, 1 - beta1));
    const m = add(mul(state.m, beta2), mul(g, 1 - beta2));
    return { delta: mul(-lr, sign(c)), state: { m } };
  },
};

/**
 * Ranger = Lookahead(RAdam) as the main entry: RAdam's step, then after every k-th step
 * φ ← φ + α·(w − φ), w ← φ (the slow weights φ start as the weights before the first step).
 */
const ranger: OpsRule<H<"ranger">> = {
  slots: () => ["m", "v", "slow"],
  initial: (slot) => (slot === "slow" ? "weights" : 0),
  decoupled: false,
  step(d, state, h, s) {
    const { delta, state: next } = radam.step(d, state, h, s);
    return { delta, state: { ...next, slow: state.slow } };
  },
  sync(value, state, h, { t }) {
    if (t % h.k !== 0) return { value, state };
    const slow = add(state.slow, mul(h.alpha, sub(value, state.slow)));
    return { value: slow, state: { ...state, slow } };
  },
};

/**
 * Every rule by name: its slots, initial values, decay kind and pure step.
 *
 * @example
 * const { delta, state } = opsRules.adam.step(g, { m, v }, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, { lr: 1e-3, t: 1 });
 */
export const opsRules: { readonly [R in RuleName]: OpsRule<H<R>> } = {
  sgd, momentum, adam, adamax, adagrad, adadelta, rmsprop, adamw, radam, nadam, lion, ranger,
};
