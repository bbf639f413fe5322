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
      if (s.weightDecay !== 0) d = add(d, p.value, s.weightDecay);
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
      if (!s.decoupled && s.weightDecay !== 0) d = add(d, p.value, s.weightDecay);
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
