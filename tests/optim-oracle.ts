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

  protected delta(i: number, g: Float64Array, w: Float64Array, s: LionSettings): Float64Array {
    const [beta1, beta2] = s.betas;
    const m = this.buffer(i, "expAvg");
    return g.map((x, j) => {
      const c = beta1 * m[j] + (1 - beta1) * x;
      m[j] = beta2 * m[j] + (1 - beta2) * x;
      return -s.lr * (Math.sign(c) + s.weightDecay * w[j]);
    });
  }
}
