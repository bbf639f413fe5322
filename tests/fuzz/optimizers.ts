// Random optimizer configurations against the float64 references (tests/optim-oracle.ts): rules,
// gc modes, layouts, convOnly, per-parameter opt-outs, Tensor and Float32Array routes, empty
// parameters, steps larger than the weights, and checkpoint resumes mid-run. Each case checks the
// README's error bound on the trajectory, the gc "update" drift bound on unit means, and that a
// resumed run is bit-identical to an uninterrupted one.
import { Adam, AdamW, SGD, Tensor } from "../../src/index.js";
import type { Param } from "../../src/index.js";
import { AdamReference, type AdamSettings, type GcMode, type ReferenceParam, SgdReference, type SgdSettings } from "../optim-oracle.js";
import { type Layout, unitIndices } from "../oracle.js";
import fc from "fast-check";
import { Lookahead, Ranger } from "../../src/index.js";
import { LookaheadReference } from "../lookahead-oracle.js";
import { RULES } from "../optim-rules.js";
import { Rng, withUnitAxis } from "./rng.js";

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
  reference(params: ReferenceParam[], hyper: Hyper): Reference;
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
   * gc "update": the kernel rounds the whole step, then centers it, so the bound's Δ is the larger
   * of the centered and the uncentered step. False for SGD, which centers the direction instead.
   */
  centersStep: boolean;
  /** Weight decay scales w (AdamW, Lion) instead of adding wd·w to the gradient (L2). */
  decoupled: boolean;
  /**
   * The step is sign(c) (Lion): where c is within rounding of 0 the float32 and float64 signs may
   * differ, a 2·lr error no rounding bound covers; such excesses are counted apart.
   */
  signStep?: boolean;
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

/** A deep copy that keeps prototypes (a reference, or a Lookahead's inner reference, keeps its methods). */
function cloneReference(x: unknown): unknown {
  if (x === null || typeof x !== "object") return x;
  if (ArrayBuffer.isView(x)) return (x as unknown as Float64Array).slice();
  if (Array.isArray(x)) return x.map(cloneReference);
  const copy = Object.create(Object.getPrototypeOf(x));
  for (const key of Object.keys(x)) copy[key] = cloneReference((x as Record<string, unknown>)[key]);
  return copy;
}

/**
 * ‖Δ‖∞ of parameter i's step before gc "update" centers it: a copy of the reference (its weights
 * and state, before the step) stepped with gc off. With "update" the direction is not centered, so
 * the copy advances the same state by the same d and its step is the uncentered Δ.
 */
function uncenteredStep(reference: Reference, i: number, grads: ArrayLike<number>[], settings: unknown[]): number {
  const twin = cloneReference(reference) as Reference;
  const before = twin.params[i].value;
  twin.step(grads, settings.map((s) => ({ ...(s as object), gc: false })) as never[]);
  let worst = 0;
  twin.params[i].value.forEach((w, j) => (worst = Math.max(worst, Math.abs(w - before[j]))));
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
    centersStep: false,
    decoupled: false,
  },
  Adam: {
    hyper: adamHyper,
    make: (p, h) => new Adam(p, h as never),
    reference: (p) => new AdamReference(p) as unknown as Reference,
    settings: (h) => ({ ...h, decoupled: false }) as unknown as AdamSettings,
    K: (h) => 16 * adamMemory(h),
    drift: () => 4,
    stable: (h) => h.lr * (h.weightDecay as number) <= (h.eps as number),
    centersStep: true,
    decoupled: false,
  },
  AdamW: {
    hyper: adamHyper,
    make: (p, h) => new AdamW(p, h as never),
    reference: (p) => new AdamReference(p) as unknown as Reference,
    settings: (h) => ({ ...h, decoupled: true }) as unknown as AdamSettings,
    K: (h) => 16 * adamMemory(h),
    drift: () => 4,
    stable: (h) => h.lr * (h.weightDecay as number) <= 2,
    centersStep: true,
    decoupled: true,
  },
};

/**
 * A rule of tests/optim-rules.ts as a fuzz kind: its hyperparameters drawn from its fast-check
 * arbitrary (seeded by the case), lr scaled by up to 100× so steps can exceed the weights.
 * `memory`: how many steps its state carries an error (1/(1 − β1) for a first moment, 1/(1 − μ)
 * for a momentum buffer, 1 when none). `decoupled`: its weight decay scales w (AdamW-like).
 */
function ruleKind(name: string, memory: (h: Hyper) => number, decoupled = false, signStep = false): OptimizerKind {
  const rule = RULES.find((r) => r.name === name)!;
  return {
    hyper: (rng) => {
      const h = fc.sample(rule.arbitrary, { seed: rng.int(0, 2 ** 31 - 1), numRuns: 1 })[0];
      return { ...h, lr: (h.lr as number) * rng.pick([1, 1, 10, 100]) };
    },
    make: (p, h) => rule.make(p, h),
    reference: (p) => rule.reference(p) as Reference,
    settings: (h) => ({ ...rule.defaults, ...h }),
    K: (h) => 16 * memory(h),
    drift: () => 4,
    stable: (h) => {
      const lrWd = h.lr * ((h.weightDecay as number | undefined) ?? 0);
      return decoupled ? lrWd <= 2 : lrWd <= ((h.eps as number | undefined) ?? 0);
    },
    centersStep: true,
    decoupled,
    signStep,
  };
}

const firstMoment = (h: Hyper) => 1 / (1 - ((h.betas as number[] | undefined)?.[0] ?? 0));
OPTIMIZER_KINDS.RAdam = ruleKind("RAdam", firstMoment);
OPTIMIZER_KINDS.NAdam = ruleKind("NAdam", firstMoment);
OPTIMIZER_KINDS.Adamax = ruleKind("Adamax", firstMoment);
OPTIMIZER_KINDS.Adagrad = ruleKind("Adagrad", () => 1);
OPTIMIZER_KINDS.Adadelta = ruleKind("Adadelta", (h) => 1 / (1 - (h.rho as number)));
OPTIMIZER_KINDS.RMSprop = ruleKind("RMSprop", (h) => 2 / (1 - (h.momentum as number))); // momentum buffer and square average
OPTIMIZER_KINDS.Lion = ruleKind("Lion", firstMoment, true, true);
OPTIMIZER_KINDS.Lookahead = lookaheadKind(OPTIMIZER_KINDS.Adam);
OPTIMIZER_KINDS.Ranger = lookaheadKind(
  { ...ruleKind("RAdam", firstMoment), hyper: (rng) => ({ lr: rng.pick([1e-3, 0.01, 0.1]), betas: [0.95, 0.999], eps: 1e-5, weightDecay: rng.pick([0, 0, 1e-5]) }) },
  (p, h) => new Ranger(p, h as never) as unknown as Stepper,
);

/**
 * Lookahead (slow weights, every k-th step φ ← φ + α·(θ − φ), θ ← φ) around another kind: the same
 * bound, the interpolation's roundings being at the weights' size (the 2·Σ‖ŵₜ‖ term).
 */
function lookaheadKind(
  inner: OptimizerKind,
  make = (p: Param[], { k, alpha, ...h }: Hyper): Stepper => new Lookahead(inner.make(p, h as Hyper) as never, { k: k as number, alpha: alpha as number }) as unknown as Stepper,
): OptimizerKind {
  return {
    ...inner,
    hyper: (rng) => ({ ...inner.hyper(rng), k: rng.int(1, 7), alpha: rng.pick([0.5, 0.8, 1]) }),
    make,
    reference: (p, h) => new LookaheadReference(inner.reference(p, h), h.k as number, h.alpha as number) as unknown as Reference,
  };
}

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
    layout: withUnitAxis(rng.pick(["out-first", "out-last"] as const), seed),
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
  /** The rule's step is a sign (OptimizerKind.signStep). */
  signStep: boolean;
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
  const reference = kind.reference(c.weights.map((w, i) => ({ value: Float64Array.from(w), shape: c.shapes[i], gc: c.gcOff[i] ? false : undefined })), c.hyper);
  const settings = c.shapes.map(() => kind.settings(c.hyper));
  // Σₜ ‖ŵₜ‖∞ and Σₜ ‖Δ̂ₜ‖∞ per parameter, along the float64 trajectory.
  const sumW = c.shapes.map(() => 0);
  const sumStep = c.shapes.map(() => 0);
  for (const grads of c.grads) {
    const before = reference.params.map((p) => p.value);
    // The kernels round before centering: the L2 direction fl(g + wd·w) (gc "gradient" and SGD's
    // "update") and the whole step (gc "update"). Their errors scale with the uncentered step.
    const l2 = !kind.decoupled && ((c.hyper.weightDecay as number | undefined) ?? 0) > 0;
    const roundsUncentered = c.hyper.gc !== false && (l2 || (c.hyper.gc === "update" && kind.centersStep));
    const uncentered = roundsUncentered ? c.shapes.map((_, i) => uncenteredStep(reference, i, grads, settings)) : undefined;
    reference.step(grads, settings as never[]);
    reference.params.forEach((p, i) => {
      sumW[i] += Math.max(maxAbs(before[i]), maxAbs(p.value));
      let step = uncentered?.[i] ?? 0;
      for (let j = 0; j < p.value.length; j++) step = Math.max(step, Math.abs(p.value[j] - before[i][j]));
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
  return { trajectory, drift, resumeMismatch, stable: kind.stable(c.hyper), signStep: kind.signStep ?? false, neededK, neededDrift, previousBound };
}
