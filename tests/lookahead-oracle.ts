// Float64 reference of Lookahead (Zhang et al. 2019, Algorithm 1) around any float64 reference
// optimizer of tests/optim-oracle.ts.
import type { ReferenceParam } from "./optim-oracle.js";

/** A float64 reference optimizer: its parameters and a step with per-parameter settings. */
export interface InnerReference<S> {
  params: ReferenceParam[];
  step(grads: ArrayLike<number>[], settings: S[]): void;
}

/** Slow weights φ = θ₀; after every k-th inner step, φ ← φ + α·(θ − φ) and θ ← φ. */
export class LookaheadReference<S> {
  readonly slow: Float64Array[];
  steps = 0;

  constructor(
    readonly inner: InnerReference<S>,
    readonly k: number,
    readonly alpha: number,
  ) {
    this.slow = inner.params.map((p) => Float64Array.from(p.value));
  }

  get params(): ReferenceParam[] {
    return this.inner.params;
  }

  step(grads: ArrayLike<number>[], settings: S[]): void {
    this.inner.step(grads, settings);
    this.steps++;
    if (this.steps % this.k !== 0) return;
    this.inner.params.forEach((p, i) => {
      const slow = this.slow[i].map((s, j) => s + this.alpha * (p.value[j] - s));
      this.slow[i] = slow;
      p.value = Float64Array.from(slow);
    });
  }
}
