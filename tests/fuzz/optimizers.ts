// Random optimizer configurations against the float64 references (tests/optim-oracle.ts): rules,
// gc modes, layouts, convOnly, per-parameter opt-outs, Tensor and Float32Array routes, empty
// parameters, steps larger than the weights, and checkpoint resumes mid-run. Each case checks the
// README's error bound on the trajectory, the gc "update" drift bound on unit means, and that a
// resumed run is bit-identical to an uninterrupted one.
import { Adam, AdamW, SGD, Tensor } from "../../src/index.js";
import type { Param } from "../../src/index.js";
import { AdamReference, type AdamSettings, type GcMode, type ReferenceParam, SgdReference, type SgdSettings } from "../optim-oracle.js";
import { type Layout, unitIndices } from "../oracle.js";
import { Rng } from "./rng.js";

/** The float32 unit roundoff. */
export const U = 2 ** -24;

type Hyper = Record<string, unknown> & { lr: number; gc: GcMode; layout: Layout; convOnly: boolean };
interface Stepper {
  step(): void;
  dispose(): void;
  stateDict(options?: { json?: boolean }): unknown;
  loadStateDict(state: never): void;
}
interface Reference {
  params: ReferenceParam[];
  step(grads: ArrayLike<number>[], settings: never[]): void;
}

/**
 * One optimizer as the fuzz sees it: random hyperparameters (on top of the gc settings), the
 * package's constructor, its float64 reference, and the README bound's constants:
 * `K` = float32 roundings of a step, times how long the state carries an error (1/(1 − μ) for a
 * momentum buffer, 1/(1 − β1) for Adam's first moment), and `drift` the same for the unit-mean drift
 * of gc "update" (see README "Accuracy of the optimizers").
 */
export interface OptimizerKind {
  hyper(rng: Rng): Record<string, unknown>;
  make(params: Param[], hyper: Hyper): Stepper;
  reference(params: ReferenceParam[]): Reference;
  settings(hyper: Hyper): unknown;
  K(hyper: Hyper): number;
  drift(hyper: Hyper): number;
  /**
   * True when a step cannot amplify an error in w (the README's condition for the bound): L2 feeds
   * w back into the direction, and lr·wd past 2 (SGD, AdamW's decay) or past eps (Adam's L2, whose
   * normalisation divides by as little as eps) makes the float64 reference itself amplify any
   * perturbation of w, float32 roundings included.
   */
  stable(hyper: Hyper): boolean;
  /**
   * gc "update": ‖Δ‖∞ of parameter i's step before it was centered (the float32 step is rounded at
   * that size, then centered). Absent: the kernel centers the direction, not the step (SGD).
   */
  uncenteredStep?(reference: Reference, i: number, before: Float64Array, hyper: Hyper): number;
}

const sgdHyper = (rng: Rng) => {
  const momentum = rng.pick([0, 0, 0.5, 0.9, 0.99]);
  const nesterov = momentum > 0 && rng.chance(0.3);
  return {
    lr: rng.pick([1e-3, 0.01, 0.1, 1, 10]),
    momentum,
    nesterov,
    dampening: nesterov ? 0 : rng.pick([0, 0, 0.3]),
    weightDecay: rng.pick([0, 0, 0.01, 0.5]),
  };
};

const adamHyper = (rng: Rng) => ({
  lr: rng.pick([1e-3, 0.01, 0.1, 1]),
  betas: rng.pick([[0.9, 0.999], [0.5, 0.9], [0, 0.99], [0.95, 0.95]]),
  eps: rng.pick([1e-8, 1e-6, 1e-3]),
  weightDecay: rng.pick([0, 0, 0.01, 0.5]),
  amsgrad: rng.chance(0.3),
});

/** ‖Δ‖∞ of Adam's step before GC "update" centers it, from the reference's advanced state. */
function adamUncenteredStep(reference: Reference, i: number, before: Float64Array, h: Hyper, decoupled: boolean): number {
  const r = reference as unknown as AdamReference;
  const [beta1, beta2] = h.betas as number[];
  const t = r.steps[i];
  const stepSize = h.lr / (1 - beta1 ** t);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
  const v = h.amsgrad ? r.maxExpAvgSq[i] : r.expAvgSq[i];
  let worst = 0;
  r.expAvg[i].forEach((m, j) => {
    const step = (-stepSize * m) / (Math.sqrt(v[j]) / bc2Sqrt + (h.eps as number)) - (decoupled ? h.lr * (h.weightDecay as number) * before[j] : 0);
    worst = Math.max(worst, Math.abs(step));
  });
  return worst;
}

const sgdMemory = (h: Hyper) => 1 / (1 - (h.momentum as number)) * (h.nesterov ? 2 : 1);
const adamMemory = (h: Hyper) => 1 / (1 - (h.betas as number[])[0]);

/**
 * The optimizers the fuzz draws from, by name. A new rule is one more line: its hyperparameter
 * generator, constructor, reference and constants.
 */
export const OPTIMIZER_KINDS: Record<string, OptimizerKind> = {
  SGD: {
    hyper: sgdHyper,
    make: (p, h) => new SGD(p, h as never),
    reference: (p) => new SgdReference(p) as unknown as Reference,
    settings: (h) => h as unknown as SgdSettings,
    K: (h) => 10 * sgdMemory(h),
    drift: (h) => 4 * sgdMemory(h),
    stable: (h) => h.lr * (h.weightDecay as number) <= 2,
  },
  Adam: {
    hyper: adamHyper,
    make: (p, h) => new Adam(p, h as never),
    reference: (p) => new AdamReference(p) as unknown as Reference,
    settings: (h) => ({ ...h, decoupled: false }) as unknown as AdamSettings,
    K: (h) => 16 * adamMemory(h),
    drift: () => 4,
    stable: (h) => h.lr * (h.weightDecay as number) <= (h.eps as number),
    uncenteredStep: (r, i, before, h) => adamUncenteredStep(r, i, before, h, false),
  },
  AdamW: {
    hyper: adamHyper,
    make: (p, h) => new AdamW(p, h as never),
    reference: (p) => new AdamReference(p) as unknown as Reference,
    settings: (h) => ({ ...h, decoupled: true }) as unknown as AdamSettings,
    K: (h) => 16 * adamMemory(h),
    drift: () => 4,
    stable: (h) => h.lr * (h.weightDecay as number) <= 2,
    uncenteredStep: (r, i, before, h) => adamUncenteredStep(r, i, before, h, true),
  },
};

/** One random configuration: everything a run needs, drawn from one seed. */
export interface OptimizerCase {
  seed: number;
  kind: string;
  hyper: Hyper;
  shapes: number[][];
  /** Per parameter: value and grad as Tensors (true) or Float32Arrays. */
  tensorValue: boolean[];
  tensorGrad: boolean[];
  gcOff: boolean[];
  weights: Float32Array[];
  grads: Float32Array[][];
  /** Step after which the run checkpoints, disposes and resumes in a new optimizer (0: none). */
  resumeAt: number;
  json: boolean;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Draws a configuration from `seed` (optimizers: names in OPTIMIZER_KINDS to draw from). */
export function optimizerCase(seed: number, kinds = Object.keys(OPTIMIZER_KINDS)): OptimizerCase {
  const rng = new Rng(seed);
  const kind = rng.pick(kinds);
  const hyper = {
    ...OPTIMIZER_KINDS[kind].hyper(rng),
    gc: rng.pick<GcMode>(["gradient", "update", false]),
    layout: rng.pick<Layout>(["out-first", "out-last"]),
    convOnly: rng.chance(0.2),
  } as Hyper;
  const count = rng.int(1, 4);
  const shapes = Array.from({ length: count }, () => rng.shape(0, 4, 7, 0.04));
  const weightScale = rng.pick([1e-3, 0.5, 20]);
  const weightOffset = rng.pick([0, 0, 3]);
  const gradScale = rng.pick([1e-3, 1, 100]);
  const gradOffset = rng.pick([0, 0.5, 1000]);
  const steps = rng.int(1, 20);
  return {
    seed,
    kind,
    hyper,
    shapes,
    tensorValue: shapes.map(() => rng.chance(0.5)),
    tensorGrad: shapes.map(() => rng.chance(0.5)),
    gcOff: shapes.map(() => rng.chance(0.15)),
    weights: shapes.map((s) => rng.array(size(s), weightOffset * weightScale, weightScale)),
    grads: Array.from({ length: steps }, () => shapes.map((s) => rng.array(size(s), gradOffset * gradScale, gradScale))),
    resumeAt: steps > 1 && rng.chance(0.3) ? rng.int(1, steps - 1) : 0,
    json: rng.chance(0.5),
  };
}

/** What one run measured: the worst ratio of error to bound (≤ 1 passes) for each property. */
export interface OptimizerResult {
  /** max |w − ŵ| / bound over every value. */
  trajectory: number;
  /** max |mean(w_T) − mean(w_0)| / drift bound over the centered units (gc "update"; 0 otherwise). */
  drift: number;
  /** Resumed weights differ in bits from an uninterrupted run's. */
  resumeMismatch: boolean;
  /** The configuration meets the bound's condition (OptimizerKind.stable). */
  stable: boolean;
  /** The smallest K (drift: D) for which the bound would hold with the 2·Σ‖ŵ‖ (drift: Σ‖w‖) term as it is. */
  neededK: number;
  neededDrift: number;
  /** The previous README bound 2·T·u·(|ŵ| + max|ŵ|): worst ratio. */
  previousBound: number;
}

interface Model {
  params: Param[];
  view(i: number, what: "value" | "grad"): Float32Array;
  dispose(): void;
}

function makeModel(c: OptimizerCase): Model {
  const params: Param[] = c.shapes.map((shape, i) => {
    const value = c.tensorValue[i] ? Tensor.from(c.weights[i], shape) : Float32Array.from(c.weights[i]);
    const grad = c.tensorGrad[i] ? new Tensor(shape) : new Float32Array(size(shape));
    const param: Param = { value, grad, shape };
    if (c.gcOff[i]) param.gc = false;
    return param;
  });
  const view = (i: number, what: "value" | "grad") => {
    const x = params[i][what];
    return x instanceof Tensor ? x.data : x;
  };
  const dispose = () =>
    params.forEach((p) => {
      if (p.value instanceof Tensor) p.value.dispose();
      if (p.grad instanceof Tensor) p.grad.dispose();
    });
  return { params, view, dispose };
}

/** Runs the package's optimizer through the case's steps (resuming when asked); returns the final weights. */
function runPackage(c: OptimizerCase, resume: boolean): Float32Array[] {
  const kind = OPTIMIZER_KINDS[c.kind];
  const model = makeModel(c);
  let opt = kind.make(model.params, c.hyper);
  try {
    c.grads.forEach((grads, t) => {
      grads.forEach((g, i) => model.view(i, "grad").set(g));
      opt.step();
      if (resume && t + 1 === c.resumeAt) {
        const state = opt.stateDict({ json: c.json });
        opt.dispose();
        opt = kind.make(model.params, c.hyper);
        opt.loadStateDict((c.json ? JSON.parse(JSON.stringify(state)) : state) as never);
      }
    });
    return c.shapes.map((_, i) => Float32Array.from(model.view(i, "value")));
  } finally {
    opt.dispose();
    model.dispose();
  }
}

/** The largest |x| of an array (0 when empty). */
const maxAbs = (x: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
};

/** Runs a case against its reference and measures it against the README's bounds. */
export function runOptimizerCase(c: OptimizerCase): OptimizerResult {
  const kind = OPTIMIZER_KINDS[c.kind];
  const reference = kind.reference(c.weights.map((w, i) => ({ value: Float64Array.from(w), shape: c.shapes[i], gc: c.gcOff[i] ? false : undefined })));
  const settings = c.shapes.map(() => kind.settings(c.hyper));
  // Σₜ ‖ŵₜ‖∞ and Σₜ ‖Δ̂ₜ‖∞ per parameter, along the float64 trajectory.
  const sumW = c.shapes.map(() => 0);
  const sumStep = c.shapes.map(() => 0);
  for (const grads of c.grads) {
    const before = reference.params.map((p) => p.value);
    reference.step(grads, settings as never[]);
    reference.params.forEach((p, i) => {
      sumW[i] += Math.max(maxAbs(before[i]), maxAbs(p.value));
      let step = 0;
      for (let j = 0; j < p.value.length; j++) step = Math.max(step, Math.abs(p.value[j] - before[i][j]));
      if (c.hyper.gc === "update" && kind.uncenteredStep) step = Math.max(step, kind.uncenteredStep(reference, i, before[i], c.hyper));
      sumStep[i] += step;
    });
  }
  const finals = runPackage(c, c.resumeAt > 0);
  const K = kind.K(c.hyper);
  let trajectory = 0;
  let neededK = 0;
  let previousBound = 0;
  const T = c.grads.length;
  const scale = Math.max(0, ...reference.params.map((p) => maxAbs(p.value)));
  finals.forEach((w, i) => {
    const bound = U * (2 * sumW[i] + K * sumStep[i]);
    const expected = reference.params[i].value;
    for (let j = 0; j < w.length; j++) {
      const error = Math.abs(w[j] - expected[j]);
      const ratio = error === 0 ? 0 : error / bound;
      trajectory = Math.max(trajectory, Number.isNaN(ratio) ? Infinity : ratio);
      neededK = Math.max(neededK, (error / U - 2 * sumW[i]) / sumStep[i]);
      previousBound = Math.max(previousBound, error / (2 * T * U * (Math.abs(expected[j]) + scale)));
    }
  });
  let drift = 0;
  let neededDrift = 0;
  if (c.hyper.gc === "update") {
    const D = kind.drift(c.hyper);
    finals.forEach((w, i) => {
      const shape = c.shapes[i];
      if (c.gcOff[i] || shape.length <= (c.hyper.convOnly ? 3 : 1) || w.length === 0) return;
      const bound = U * (sumW[i] + D * sumStep[i]);
      for (const unit of unitIndices(shape, c.hyper.layout)) {
        let moved = 0;
        for (const j of unit) moved += w[j] - c.weights[i][j];
        const ratio = Math.abs(moved / unit.length) / bound;
        drift = Math.max(drift, Number.isNaN(ratio) ? Infinity : ratio);
        neededDrift = Math.max(neededDrift, (Math.abs(moved / unit.length) / U - sumW[i]) / sumStep[i]);
      }
    });
  }
  let resumeMismatch = false;
  if (c.resumeAt > 0) {
    const straight = runPackage(c, false);
    const bits = (a: Float32Array) => new Uint32Array(a.buffer);
    resumeMismatch = finals.some((w, i) => bits(w).some((b, j) => b !== bits(straight[i])[j]));
  }
  return { trajectory, drift, resumeMismatch, stable: kind.stable(c.hyper), neededK, neededDrift, previousBound };
}
