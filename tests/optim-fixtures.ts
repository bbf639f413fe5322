// Shared set-up of the optimizer tests: parameters of ranks 0–4 (Tensors and Float32Arrays),
// seeded gradient sequences, float64 copies for the references, and the tolerance check.
import { Tensor } from "../src/index.js";
import type { Param } from "../src/index.js";
import type { ReferenceParam } from "./optim-oracle.js";
import { randomArray } from "./random.js";

/**
 * Shapes of a small model: a bias (rank 1), dense layers (rank 2, one with a width that is not
 * a multiple of 4), a rank-3 kernel, two conv kernels (rank 4) and a scalar.
 */
export const SHAPES: readonly (readonly number[])[] = [[7], [5, 6], [3, 4, 5], [4, 3, 3, 3], [6, 9], [2, 5, 1, 3], []];

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export interface Model {
  params: Param[];
  /** Current weights as float32 copies. */
  values(): Float32Array[];
  /** Sets every gradient (Tensors through their live view, arrays in place). */
  setGrads(grads: Float32Array[]): void;
  dispose(): void;
}

/**
 * Parameters with weights ~ 0.5·N(0, 1); even-indexed ones as Tensors (zero-copy), odd ones as
 * Float32Arrays with their shape. `gcOff` lists the indices that opt out with `gc: false`.
 */
export function makeModel(seed: number, shapes = SHAPES, gcOff: readonly number[] = []): Model {
  const params: Param[] = shapes.map((shape, i) => {
    const values = randomArray(size(shape), seed + i, 0, 0.5);
    const param: Param =
      i % 2 === 0
        ? { value: Tensor.from(values, shape), grad: new Tensor(shape) }
        : { value: values, grad: new Float32Array(values.length), shape };
    if (gcOff.includes(i)) param.gc = false;
    return param;
  });
  const view = (x: Tensor | Float32Array) => (x instanceof Tensor ? x.data : x);
  return {
    params,
    values: () => params.map((p) => Float32Array.from(view(p.value))),
    setGrads: (grads) => params.forEach((p, i) => view(p.grad).set(grads[i])),
    dispose: () =>
      params.forEach((p) => {
        if (p.value instanceof Tensor) p.value.dispose();
        if (p.grad instanceof Tensor) p.grad.dispose();
      }),
  };
}

/** The float64 starting point of a model for the references. */
export function referenceParams(model: Model, shapes = SHAPES): ReferenceParam[] {
  return model.values().map((v, i) => ({ value: Float64Array.from(v), shape: shapes[i], gc: model.params[i].gc }));
}

/** `steps` gradients per parameter: offset + N(0, 1), a fresh seeded draw each step. */
export function gradientSequence(steps: number, seed: number, offset = 0.3, shapes = SHAPES): Float32Array[][] {
  return Array.from({ length: steps }, (_, t) =>
    shapes.map((shape, i) => randomArray(size(shape), seed * 1000 + t * 31 + i, offset, 1)),
  );
}

/**
 * max_i |actual_i − expected_i| / (atol + rtol·|expected_i|): at most 1 when every value is
 * within the relative-plus-absolute tolerance.
 */
export function toleranceRatio(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const ratio = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    worst = Math.max(worst, Number.isNaN(ratio) ? Infinity : ratio);
  }
  return worst;
}

/** Largest |x| over the arrays. */
export function maxAbs(arrays: ArrayLike<number>[]): number {
  let m = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** The float32 unit roundoff, 2⁻²⁴. */
export const ROUNDOFF = 2 ** -24;

/**
 * Worst ratio of |float32 − float64| to the trajectory tolerance 2·T·u·(|expected| + scale),
 * scale = the largest |weight|: each step rounds the new weight once (≤ u·|w|) and the step
 * a few times at a magnitude below the weights', so T steps drift at most about 2·T·u of the
 * weight scale (measured drift is 10–50× smaller; a wrong axis, mode or bias correction is
 * off by ~lr, 10⁴× larger). Where steps can exceed the weights (random hyperparameters), pass
 * each parameter's Σₜ‖Δₜ‖∞ as `stepSums`: the tolerance then adds D·u·Σₜ‖Δₜ‖∞, D = 4, each step's
 * own roundoff (as the drift bound of gc "update" counts it).
 */
export function trajectoryError(actual: Float32Array[], expected: ReferenceParam[], steps: number, stepSums?: readonly number[]): number {
  const scale = maxAbs(expected.map((p) => p.value));
  const rtol = 2 * steps * ROUNDOFF;
  return Math.max(...actual.map((a, i) => toleranceRatio(a, expected[i].value, rtol, rtol * scale + 4 * ROUNDOFF * (stepSums?.[i] ?? 0))));
}

/**
 * Steps an optimizer over `model` and its float64 `reference` side by side through `steps` seeded
 * gradients (every parameter with `settings`); returns the worst tolerance ratio and the weights,
 * and disposes the optimizer and the model.
 */
export function compareTrajectory<S>(
  model: Model,
  opt: { step(): void; dispose(): void },
  reference: { params: ReferenceParam[]; step(grads: ArrayLike<number>[], settings: S[]): void },
  settings: S,
  steps: number,
  seed: number,
): { error: number; values: Float32Array[] } {
  for (const grads of gradientSequence(steps, seed)) {
    model.setGrads(grads);
    opt.step();
    reference.step(grads, SHAPES.map(() => settings));
  }
  const error = trajectoryError(model.values(), reference.params, steps);
  const values = model.values();
  opt.dispose();
  model.dispose();
  return { error, values };
}

/** Bit patterns of float32 arrays, for exact comparisons (NaN and −0 included). */
export const bits = (arrays: Float32Array[]) => arrays.map((a) => Array.from(new Uint32Array(Float32Array.from(a).buffer)));

/** The optimizer under test, made over a model's params. */
type MakeOptimizer = (params: Param[]) => {
  step(): void;
  dispose(): void;
  loadStateDict(state: never): void;
  stateDict(options?: { json?: boolean }): unknown;
};

/**
 * Resumes from a checkpoint: a fresh model holding `weights`, an optimizer from `make` loaded with
 * `state` (none: a fresh optimizer), stepped through `grads`; returns the bits of the weights.
 */
export function resumeBits(make: MakeOptimizer, weights: Float32Array[], state: unknown, grads: Float32Array[][]): number[][] {
  const model = makeModel(99);
  model.params.forEach((p, i) => (p.value instanceof Tensor ? p.value.data : p.value).set(weights[i]));
  const opt = make(model.params);
  if (state !== undefined) opt.loadStateDict(state as never);
  for (const g of grads) {
    model.setGrads(g);
    opt.step();
  }
  const result = bits(model.values());
  opt.dispose();
  model.dispose();
  return result;
}


/**
 * The checkpoint test every optimizer gets: 20 steps uninterrupted, against resuming after step 10
 * from `stateDict()`, from its JSON form, and from no state at all (a fresh optimizer); the bits of
 * the final weights of each.
 */
export function resumeFromMidway(make: MakeOptimizer): { uninterrupted: number[][]; plain: number[][]; json: number[][]; fresh: number[][] } {
  const grads = gradientSequence(20, 17);
  const model = makeModel(7);
  const opt = make(model.params);
  let checkpoint: { weights: Float32Array[]; plain: unknown; json: string } | undefined;
  grads.forEach((g, t) => {
    if (t === 10) checkpoint = { weights: model.values(), plain: opt.stateDict(), json: JSON.stringify(opt.stateDict({ json: true })) };
    model.setGrads(g);
    opt.step();
  });
  const uninterrupted = bits(model.values());
  const resume = (state: unknown) => resumeBits(make, checkpoint!.weights, state, grads.slice(10));
  const result = { uninterrupted, plain: resume(checkpoint!.plain), json: resume(JSON.parse(checkpoint!.json)), fresh: resume(undefined) };
  opt.dispose();
  model.dispose();
  return result;
}
