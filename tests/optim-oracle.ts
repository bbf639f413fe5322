// Float64 references of the optimizers, written for reading: torch.optim's SGD, Adam and AdamW
// rules, and Gradient Centralization at the two places the package offers ("gradient": the
// official SGD_GC / Adam_GC; "update": the whole step, the official Adam_GC2).
import { centralizeReference, type Layout } from "./oracle.js";

export type GcMode = "gradient" | "update" | false;

/** Hyperparameters shared by every rule. */
export interface GcSettings {
  gc: GcMode;
  convOnly: boolean;
  layout: Layout;
}

export interface SgdSettings extends GcSettings {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

export interface AdamSettings extends GcSettings {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  /** AdamW: w ← w·(1 − lr·wd) instead of adding wd·w to the gradient. */
  decoupled: boolean;
}

/** One parameter as the references see it: float64 weights, shape, and the per-parameter opt-out. */
export interface ReferenceParam {
  value: Float64Array;
  shape: readonly number[];
  gc?: boolean;
}

const add = (a: Float64Array, b: Float64Array, scale = 1) => a.map((x, i) => x + scale * b[i]);
const scale = (a: Float64Array, s: number) => a.map((x) => x * s);

/**
 * The L2 direction d = g + wd·w as torch computes it on float32 tensors (grad.add(param,
 * alpha=wd)): fl(g + fl(wd·w)), wd and w as float32. GC "gradient" centers this float32 value
 * (issue 10 item 11: a unit whose centered direction is zero must get a zero step), and an
 * adaptive rule's normalisation amplifies the difference to the exact sum near d = 0
 * (Adam at t = 1: ∂Δ/∂d = lr/eps), so the references use it too.
 */
export function l2Direction(g: ArrayLike<number>, w: Float64Array, weightDecay: number): Float64Array {
  const wd = Math.fround(weightDecay);
  return Float64Array.from(g, (x, i) => Math.fround(x + Math.fround(wd * Math.fround(w[i]))));
}

/** P x when GC applies to this parameter (rank > 1, rank > 3 with convOnly, not opted out); else x. */
function projected(x: Float64Array, p: ReferenceParam, s: GcSettings): Float64Array {
  if (s.gc === false || p.gc === false) return x;
  return centralizeReference(x, p.shape, s.layout, s.convOnly);
}

/** torch.optim.SGD, with GC. `settings[i]` are parameter i's (its group's) hyperparameters. */
export class SgdReference {
  readonly momentumBuffer: (Float64Array | null)[];

  constructor(readonly params: ReferenceParam[]) {
    this.momentumBuffer = params.map(() => null);
  }

  step(grads: ArrayLike<number>[], settings: SgdSettings[]): void {
    this.params.forEach((p, i) => {
      const s = settings[i];
      let d: Float64Array = Float64Array.from(grads[i]);
      if (s.weightDecay !== 0) d = l2Direction(grads[i], p.value, s.weightDecay);
      if (s.gc === "gradient") d = projected(d, p, s);
      let direction = d;
      if (s.momentum !== 0) {
        const previous = this.momentumBuffer[i];
        const buf = previous === null ? Float64Array.from(d) : add(scale(previous, s.momentum), d, 1 - s.dampening);
        this.momentumBuffer[i] = buf;
        direction = s.nesterov ? add(d, buf, s.momentum) : buf;
      }
      let delta: Float64Array = scale(direction, -s.lr);
      if (s.gc === "update") delta = projected(delta, p, s);
      p.value = add(p.value, delta);
    });
  }
}

/** torch.optim.Adam and torch.optim.AdamW (decoupled), with GC. */
export class AdamReference {
  readonly steps: number[];
  readonly expAvg: Float64Array[];
  readonly expAvgSq: Float64Array[];
  readonly maxExpAvgSq: Float64Array[];

  constructor(readonly params: ReferenceParam[]) {
    this.steps = params.map(() => 0);
    this.expAvg = params.map((p) => new Float64Array(p.value.length));
    this.expAvgSq = params.map((p) => new Float64Array(p.value.length));
    this.maxExpAvgSq = params.map((p) => new Float64Array(p.value.length));
  }

  step(grads: ArrayLike<number>[], settings: AdamSettings[]): void {
    this.params.forEach((p, i) => {
      const s = settings[i];
      const [beta1, beta2] = s.betas;
      const t = ++this.steps[i];
      let d: Float64Array = Float64Array.from(grads[i]);
      if (!s.decoupled && s.weightDecay !== 0) d = l2Direction(grads[i], p.value, s.weightDecay);
      if (s.gc === "gradient") d = projected(d, p, s);
      const m = this.expAvg[i].map((x, j) => beta1 * x + (1 - beta1) * d[j]);
      const v = this.expAvgSq[i].map((x, j) => beta2 * x + (1 - beta2) * d[j] * d[j]);
      this.expAvg[i] = m;
      this.expAvgSq[i] = v;
      let vHat = v;
      if (s.amsgrad) {
        vHat = this.maxExpAvgSq[i].map((x, j) => Math.max(x, v[j]));
        this.maxExpAvgSq[i] = vHat;
      }
      const stepSize = s.lr / (1 - beta1 ** t);
      const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
      let delta: Float64Array = m.map((mj, j) => (-stepSize * mj) / (Math.sqrt(vHat[j]) / bc2Sqrt + s.eps));
      if (s.decoupled) delta = add(delta, p.value, -s.lr * s.weightDecay);
      if (s.gc === "update") delta = projected(delta, p, s);
      p.value = add(p.value, delta);
    });
  }
}

/**
 * What the newer rules share: per-parameter step counts and named float64 state, the direction
 * d = g + wd·w (coupled L2, as l2Direction; decoupled rules override `coupled`), GC of d ("gradient") or of the
 * whole step Δ, decay included ("update"), and w ← w + Δ. A rule supplies Δ from d, w and t.
 */
abstract class RuleReference<S extends GcSettings & { weightDecay: number }> {
  readonly steps: number[];
  readonly state: Record<string, Float64Array>[];

  constructor(readonly params: ReferenceParam[]) {
    this.steps = params.map(() => 0);
    this.state = params.map(() => ({}));
  }

  /** Whether weightDecay is L2 added to the gradient (else the rule decays w itself). */
  protected coupled = true;

  /** A state buffer of parameter i, made by `init` (zeros) on first use, as torch makes it lazily. */
  protected buffer(i: number, name: string, init = 0): Float64Array {
    this.state[i][name] ??= new Float64Array(this.params[i].value.length).fill(init);
    return this.state[i][name];
  }

  /** The step Δ of parameter i at step t (from 1) for direction d; advances the state. */
  protected abstract delta(i: number, d: Float64Array, w: Float64Array, s: S, t: number): Float64Array;

  step(grads: ArrayLike<number>[], settings: S[]): void {
    this.params.forEach((p, i) => {
      const s = settings[i];
      const t = ++this.steps[i];
      let d: Float64Array = Float64Array.from(grads[i]);
      if (this.coupled && s.weightDecay !== 0) d = l2Direction(grads[i], p.value, s.weightDecay);
      if (s.gc === "gradient") d = projected(d, p, s);
      let delta = this.delta(i, d, p.value, s, t);
      if (s.gc === "update") delta = projected(delta, p, s);
      p.value = add(p.value, delta);
    });
  }
}

export interface RAdamSettings extends GcSettings {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

/**
 * torch.optim.RAdam (its documentation's algorithm): m, v as Adam; m̂ = m/(1 − β1ᵗ);
 * ρ∞ = 2/(1 − β2) − 1, ρₜ = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ); if ρₜ > 5: l = √(1 − β2ᵗ)/(√v + ε),
 * r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)), Δ = −γ·m̂·l·r; else Δ = −γ·m̂.
 */
export class RAdamReference extends RuleReference<RAdamSettings> {
  protected delta(i: number, d: Float64Array, _w: Float64Array, s: RAdamSettings, t: number): Float64Array {
    const [beta1, beta2] = s.betas;
    const m = this.buffer(i, "expAvg");
    const v = this.buffer(i, "expAvgSq");
    d.forEach((x, j) => {
      m[j] = beta1 * m[j] + (1 - beta1) * x;
      v[j] = beta2 * v[j] + (1 - beta2) * x * x;
    });
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * t * beta2 ** t) / (1 - beta2 ** t);
    return m.map((mj, j) => {
      const mHat = mj / (1 - beta1 ** t);
      if (!(rhoT > 5)) return -s.lr * mHat;
      const l = Math.sqrt(1 - beta2 ** t) / (Math.sqrt(v[j]) + s.eps);
      const r = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
      return -s.lr * mHat * l * r;
    });
  }
}

export interface NAdamSettings extends RAdamSettings {
  momentumDecay: number;
}

/**
 * torch.optim.NAdam: μₜ = β1(1 − ½·0.96^(tψ)), μₜ₊₁ likewise; m, v as Adam;
 * m̂ = μₜ₊₁·m/(1 − Πᵢ≤ₜ₊₁ μᵢ) + (1 − μₜ)·d/(1 − Πᵢ≤ₜ μᵢ); v̂ = v/(1 − β2ᵗ); Δ = −γ·m̂/(√v̂ + ε).
 * The μ-product is kept per parameter (torch's state["mu_product"]).
 */
export class NAdamReference extends RuleReference<NAdamSettings> {
  readonly muProduct: number[] = this.params.map(() => 1);

  /** Πᵢ≤ₜ₊₁ μᵢ from Πᵢ≤ₜ μᵢ (torch 1.13 multiplied μₜ in twice: see optim-torch-golden.test.ts). */
  protected productNext(product: number, _mu: number, muNext: number): number {
    return product * muNext;
  }

  protected delta(i: number, d: Float64Array, _w: Float64Array, s: NAdamSettings, t: number): Float64Array {
    const [beta1, beta2] = s.betas;
    const mu = beta1 * (1 - 0.5 * 0.96 ** (t * s.momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * s.momentumDecay));
    const product = (this.muProduct[i] *= mu);
    const m = this.buffer(i, "expAvg");
    const v = this.buffer(i, "expAvgSq");
    d.forEach((x, j) => {
      m[j] = beta1 * m[j] + (1 - beta1) * x;
      v[j] = beta2 * v[j] + (1 - beta2) * x * x;
    });
    const productNext = this.productNext(product, mu, muNext);
    return m.map((mj, j) => {
      const mHat = (muNext * mj) / (1 - productNext) + ((1 - mu) * d[j]) / (1 - product);
      const vHat = v[j] / (1 - beta2 ** t);
      return (-s.lr * mHat) / (Math.sqrt(vHat) + s.eps);
    });
  }
}

export interface AdamaxSettings extends RAdamSettings {
  /** η of γ/(1 + (t − 1)η) (this package's addition, tf.train.adamax's decay); 0 in torch. */
  lrDecay: number;
}

/** torch.optim.Adamax: m as Adam; u = max(β2·u, |d| + ε); Δ = −γ̃·m/((1 − β1ᵗ)·u), γ̃ = γ/(1 + (t − 1)η). */
export class AdamaxReference extends RuleReference<AdamaxSettings> {
  protected delta(i: number, d: Float64Array, _w: Float64Array, s: AdamaxSettings, t: number): Float64Array {
    const [beta1, beta2] = s.betas;
    const m = this.buffer(i, "expAvg");
    const u = this.buffer(i, "expInf");
    d.forEach((x, j) => {
      m[j] = beta1 * m[j] + (1 - beta1) * x;
      u[j] = Math.max(beta2 * u[j], Math.abs(x) + s.eps);
    });
    const clr = s.lr / (1 + (t - 1) * s.lrDecay);
    return m.map((mj, j) => (-clr * mj) / ((1 - beta1 ** t) * u[j]));
  }
}

export interface AdagradSettings extends GcSettings {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
}

/** torch.optim.Adagrad: γ̃ = γ/(1 + (t − 1)η); s = s + d² (s starts at initialAccumulatorValue); Δ = −γ̃·d/(√s + ε). */
export class AdagradReference extends RuleReference<AdagradSettings> {
  protected delta(i: number, d: Float64Array, _w: Float64Array, s: AdagradSettings, t: number): Float64Array {
    const clr = s.lr / (1 + (t - 1) * s.lrDecay);
    const sum = this.buffer(i, "sum", s.initialAccumulatorValue);
    d.forEach((x, j) => (sum[j] += x * x));
    return d.map((x, j) => (-clr * x) / (Math.sqrt(sum[j]) + s.eps));
  }
}

export interface AdadeltaSettings extends GcSettings {
  lr: number;
  rho: number;
  eps: number;
  weightDecay: number;
}

/** torch.optim.Adadelta: v = ρv + (1 − ρ)d²; δ = √(u + ε)/√(v + ε)·d; u = ρu + (1 − ρ)δ²; Δ = −γ·δ. */
export class AdadeltaReference extends RuleReference<AdadeltaSettings> {
  protected delta(i: number, d: Float64Array, _w: Float64Array, s: AdadeltaSettings): Float64Array {
    const v = this.buffer(i, "squareAvg");
    const u = this.buffer(i, "accDelta");
    return d.map((x, j) => {
      v[j] = s.rho * v[j] + (1 - s.rho) * x * x;
      const delta = (Math.sqrt(u[j] + s.eps) / Math.sqrt(v[j] + s.eps)) * x;
      u[j] = s.rho * u[j] + (1 - s.rho) * delta * delta;
      return -s.lr * delta;
    });
  }
}

export interface RMSpropSettings extends GcSettings {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

/**
 * torch.optim.RMSprop: v = αv + (1 − α)d²; ṽ = v, centered: a = αa + (1 − α)d, ṽ = v − a²;
 * momentum μ > 0: b = μb + d/(√ṽ + ε), Δ = −γ·b; else Δ = −γ·d/(√ṽ + ε).
 */
export class RMSpropReference extends RuleReference<RMSpropSettings> {
  protected delta(i: number, d: Float64Array, _w: Float64Array, s: RMSpropSettings): Float64Array {
    const v = this.buffer(i, "squareAvg");
    return d.map((x, j) => {
      v[j] = s.alpha * v[j] + (1 - s.alpha) * x * x;
      let vTilde = v[j];
      if (s.centered) {
        const a = this.buffer(i, "gradAvg");
        a[j] = s.alpha * a[j] + (1 - s.alpha) * x;
        vTilde -= a[j] * a[j];
      }
      const scaled = x / (Math.sqrt(vTilde) + s.eps);
      if (s.momentum === 0) return -s.lr * scaled;
      const b = this.buffer(i, "momentumBuffer");
      b[j] = s.momentum * b[j] + scaled;
      return -s.lr * b[j];
    });
  }
}

export interface LionSettings extends GcSettings {
  lr: number;
  betas: [number, number];
  weightDecay: number;
}

/**
 * Lion (Chen et al., 2023, Program 1): c = β1·m + (1 − β1)·g; Δ = −γ·(sign(c) + λ·w) (decoupled
 * decay); m = β2·m + (1 − β2)·g. GC "gradient" centers g.
 */
export class LionReference extends RuleReference<LionSettings> {
  protected coupled = false;
  /**
   * The smallest |c| whose sign a step took: below what float32 rounding of c (and of the
   * centered d it is made of) can move, the sign (−1, 0 or 1) is not decided by the formula, and
   * a float32 implementation may take another one (a step of lr apart).
   */
  smallestInterpolation = Infinity;

  protected delta(i: number, g: Float64Array, w: Float64Array, s: LionSettings): Float64Array {
    const [beta1, beta2] = s.betas;
    const m = this.buffer(i, "expAvg");
    return g.map((x, j) => {
      const c = beta1 * m[j] + (1 - beta1) * x;
      this.smallestInterpolation = Math.min(this.smallestInterpolation, Math.abs(c));
      m[j] = beta2 * m[j] + (1 - beta2) * x;
      return -s.lr * (Math.sign(c) + s.weightDecay * w[j]);
    });
  }
}

// tf.train's formulas (TF.js 4.22, tfjs-core/dist/optimizers/*_optimizer.js), as `formula: "tfjs"`
// follows them, with this package's direction d (L2, GC) in place of the gradient. Each is
// written from the TF.js source, line by line; βᵗ is kept as TF.js keeps its accBeta variable, a
// float32 product (Math.fround), everything else in float64.

/** tf.train's accBeta after t − 1 updates: fl(β), then fl(acc · fl(β)) each step. */
function tfjsAccBeta(beta: number, t: number): number {
  let acc = Math.fround(beta);
  for (let k = 1; k < t; k++) acc = Math.fround(acc * Math.fround(beta));
  return acc;
}

/**
 * tf.train.adagrad (AdagradOptimizer.applyGradients): accumulatedGrad starts at
 * initialAccumulatorValue; newAccumulatedGrad = accumulatedGrad + g²;
 * newValue = g / sqrt(newAccumulatedGrad + epsilon) · (−lr) + value. (lr as lr/(1 + (t − 1)·lrDecay).)
 */
export class TfjsAdagradReference extends RuleReference<AdagradSettings> {
  protected delta(i: number, d: Float64Array, _w: Float64Array, s: AdagradSettings, t: number): Float64Array {
    const lr = s.lr / (1 + (t - 1) * s.lrDecay);
    const accumulated = this.buffer(i, "sum", s.initialAccumulatorValue);
    return d.map((g, j) => {
      accumulated[j] = accumulated[j] + g * g;
      return (g / Math.sqrt(accumulated[j] + s.eps)) * -lr;
    });
  }
}

/**
 * tf.train.rmsprop (RMSPropOptimizer.applyGradients), decay = alpha:
 *   ms = ms·decay + g²·(1 − decay);
 *   centered: mg = mg·decay + g·(1 − decay); contribution = g·lr / sqrt(ms − (mg² + epsilon));
 *   plain: contribution = g·lr / sqrt(ms + epsilon);
 *   mom = mom·momentum + contribution; value = value − mom.
 * (TF.js keeps `mom` with momentum 0 too: then mom = contribution.)
 */
export class TfjsRMSpropReference extends RuleReference<RMSpropSettings> {
  protected delta(i: number, d: Float64Array, _w: Float64Array, s: RMSpropSettings): Float64Array {
    const ms = this.buffer(i, "squareAvg");
    const mom = this.buffer(i, "momentumBuffer");
    return d.map((g, j) => {
      ms[j] = ms[j] * s.alpha + g * g * (1 - s.alpha);
      let contribution: number;
      if (s.centered) {
        const mg = this.buffer(i, "gradAvg");
        mg[j] = mg[j] * s.alpha + g * (1 - s.alpha);
        contribution = (g * s.lr) / Math.sqrt(ms[j] - (mg[j] * mg[j] + s.eps));
      } else {
        contribution = (g * s.lr) / Math.sqrt(ms[j] + s.eps);
      }
      mom[j] = mom[j] * s.momentum + contribution;
      return -mom[j];
    });
  }
}

/**
 * tf.train.adamax (AdamaxOptimizer.applyGradients), decay = lrDecay, iteration = t − 1:
 *   lr = −learningRate / (iteration·decay + 1);  m = m·β1 + g·(1 − β1);  u = max(u·β2, |g|);
 *   value = lr / (1 − accBeta1) · (m / (u + epsilon)) + value.
 */
export class TfjsAdamaxReference extends RuleReference<AdamaxSettings> {
  protected delta(i: number, d: Float64Array, _w: Float64Array, s: AdamaxSettings, t: number): Float64Array {
    const [beta1, beta2] = s.betas;
    const lr = -s.lr / ((t - 1) * s.lrDecay + 1);
    const oneMinusAccBeta1 = 1 - tfjsAccBeta(beta1, t);
    const m = this.buffer(i, "expAvg");
    const u = this.buffer(i, "expInf");
    return d.map((g, j) => {
      m[j] = m[j] * beta1 + g * (1 - beta1);
      u[j] = Math.max(u[j] * beta2, Math.abs(g));
      return (lr / oneMinusAccBeta1) * (m[j] / (u[j] + s.eps));
    });
  }
}

/**
 * tf.train.adadelta (AdadeltaOptimizer.applyGradients): the update reads accumulatedGrad before
 * it is advanced:
 *   newAccumulatedGrad = accumulatedGrad·rho + g²·(1 − rho);
 *   updates = sqrt(accumulatedUpdate + epsilon) / sqrt(accumulatedGrad + epsilon) · g;
 *   newAccumulatedUpdate = accumulatedUpdate·rho + updates²·(1 − rho);  value = updates·(−lr) + value.
 */
export class TfjsAdadeltaReference extends RuleReference<AdadeltaSettings> {
  protected delta(i: number, d: Float64Array, _w: Float64Array, s: AdadeltaSettings): Float64Array {
    const accumulatedGrad = this.buffer(i, "squareAvg");
    const accumulatedUpdate = this.buffer(i, "accDelta");
    return d.map((g, j) => {
      const newAccumulatedGrad = accumulatedGrad[j] * s.rho + g * g * (1 - s.rho);
      const updates = (Math.sqrt(accumulatedUpdate[j] + s.eps) / Math.sqrt(accumulatedGrad[j] + s.eps)) * g;
      accumulatedUpdate[j] = accumulatedUpdate[j] * s.rho + updates * updates * (1 - s.rho);
      accumulatedGrad[j] = newAccumulatedGrad;
      return updates * -s.lr;
    });
  }
}

/**
 * tf.train.adam (AdamOptimizer.applyGradients), Adam's coupled L2 in d:
 *   m = m·β1 + g·(1 − β1);  v = v·β2 + g²·(1 − β2);
 *   m̂ = m / (1 − accBeta1);  v̂ = v / (1 − accBeta2);  value = m̂ / (sqrt(v̂) + epsilon) · (−lr) + value.
 */
export class TfjsAdamReference extends RuleReference<RAdamSettings> {
  protected delta(i: number, d: Float64Array, _w: Float64Array, s: RAdamSettings, t: number): Float64Array {
    const [beta1, beta2] = s.betas;
    const oneMinusAccBeta1 = 1 - tfjsAccBeta(beta1, t);
    const oneMinusAccBeta2 = 1 - tfjsAccBeta(beta2, t);
    const m = this.buffer(i, "expAvg");
    const v = this.buffer(i, "expAvgSq");
    return d.map((g, j) => {
      m[j] = m[j] * beta1 + g * (1 - beta1);
      v[j] = v[j] * beta2 + g * g * (1 - beta2);
      const mHat = m[j] / oneMinusAccBeta1;
      const vHat = v[j] / oneMinusAccBeta2;
      return (mHat / (Math.sqrt(vHat) + s.eps)) * -s.lr;
    });
  }
}

/** AdamW with tf.train.adam's step (TF.js has no AdamW): Δ = TfjsAdamReference's Δ of g − lr·wd·w (torch's decoupled decay). */
export class TfjsAdamWReference extends TfjsAdamReference {
  protected coupled = false;

  protected delta(i: number, g: Float64Array, w: Float64Array, s: RAdamSettings, t: number): Float64Array {
    const adam = super.delta(i, g, w, s, t);
    return adam.map((x, j) => x - s.lr * s.weightDecay * w[j]);
  }
}
