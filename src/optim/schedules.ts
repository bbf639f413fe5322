// Learning-rate schedules with optax's definitions (optax/schedules/_schedule.py), names in
// camelCase, computed in float64. Pass one as an optimizer's `lr`: it is called once per step
// with the number of steps taken before it (0 first).
import { readOptions } from "../args.js";
import { kindOf } from "../checks.js";

/** A schedule: the value at a step count (0 for the first step). */
export type Schedule = (step: number) => number;

/** How each option is read: required or not; a number passing `check`, a boolean, or (`other`) checked by the caller. */
type Spec = Record<string, { required?: boolean; check?: (x: number) => boolean; what?: string; boolean?: boolean; other?: boolean }>;

const finite = { check: Number.isFinite, what: "a finite number" };
const positive = { check: (x: number) => Number.isFinite(x) && x > 0, what: "a finite number > 0" };
const unit = { check: (x: number) => x >= 0 && x <= 1, what: "in [0, 1]" };

/** Validates an options object against `spec` (known keys, kinds, values); returns it. */
function read<T>(caller: string, options: unknown, spec: Spec): T {
  // Own enumerable properties, each read once, into a copy with no prototype (see args.ts):
  // inherited keys are ignored and the schedule uses only the values checked here.
  if (options === undefined) throw new TypeError(`${caller}: options must be an object, got undefined`);
  const record = readOptions(options, Object.keys(spec), caller);
  for (const [key, rule] of Object.entries(spec)) {
    const value = Object.hasOwn(record, key) ? record[key] : undefined;
    const name = `options.${key}`;
    if (value === undefined) {
      if (rule.required) throw new TypeError(`${caller}: ${name} is required`);
      continue;
    }
    if (rule.other) continue;
    if (rule.boolean) {
      if (typeof value !== "boolean") throw new TypeError(`${caller}: ${name} must be a boolean, got ${kindOf(value)}`);
      continue;
    }
    if (typeof value !== "number") throw new TypeError(`${caller}: ${name} must be a number, got ${kindOf(value)}`);
    if (rule.check && !rule.check(value)) throw new RangeError(`${caller}: ${name} must be ${rule.what}, got ${value}`);
  }
  return record as T;
}

/**
 * The same value at every step.
 *
 * @example
 * const opt = new Adam(params, { lr: constantSchedule(1e-3) });
 */
export function constantSchedule(value: number): Schedule {
  if (typeof value !== "number") throw new TypeError(`constantSchedule: value must be a number, got ${kindOf(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`constantSchedule: value must be a finite number, got ${value}`);
  return () => value;
}

/** Options of `linearSchedule`. */
export interface LinearScheduleOptions {
  initValue: number;
  endValue: number;
  /** Steps of the transition; ≤ 0 makes the schedule constant at `initValue` (as optax). */
  transitionSteps: number;
  /** Steps before the transition starts (negative counts as 0); default 0. */
  transitionBegin?: number;
}

/**
 * optax.linear_schedule: with I = initValue, E = endValue, B = transitionBegin, T = transitionSteps,
 * `t' = clip(t − B, 0, T)`, value = `(I − E)·(1 − t'/T) + E` (I before B, E from B + T on).
 *
 * @example
 * const warmup = linearSchedule({ initValue: 0, endValue: 1e-3, transitionSteps: 100 }); // 0 → 1e-3 over 100 steps
 */
export function linearSchedule(options: LinearScheduleOptions): Schedule {
  const caller = "linearSchedule";
  const { initValue, endValue, transitionSteps, transitionBegin = 0 } = read<LinearScheduleOptions>(caller, options, {
    initValue: { required: true, ...finite },
    endValue: { required: true, ...finite },
    transitionSteps: { required: true, ...finite },
    transitionBegin: finite,
  });
  if (transitionSteps <= 0) return () => initValue;
  const begin = Math.max(0, transitionBegin);
  return (step) => {
    const t = Math.min(Math.max(step - begin, 0), transitionSteps);
    return (initValue - endValue) * (1 - t / transitionSteps) + endValue;
  };
}

/** Options of `cosineDecaySchedule`. */
export interface CosineDecayScheduleOptions {
  initValue: number;
  /** Steps of the decay, > 0. */
  decaySteps: number;
  /** The final multiplier; default 0. */
  alpha?: number;
  /** Exponent of the cosine factor; default 1. */
  exponent?: number;
}

/**
 * optax.cosine_decay_schedule: `t' = min(t, T)`, `c = ½·(1 + cos(π·t'/T))`,
 * value = `I·((1 − α)·cᵖ + α)` with I = initValue, T = decaySteps, α = alpha, p = exponent.
 *
 * @example
 * const lr = cosineDecaySchedule({ initValue: 0.1, decaySteps: 1000 }); // 0.1 → 0 over 1000 steps
 */
export function cosineDecaySchedule(options: CosineDecayScheduleOptions): Schedule {
  const { initValue, decaySteps, alpha = 0, exponent = 1 } = read<CosineDecayScheduleOptions>("cosineDecaySchedule", options, {
    initValue: { required: true, ...finite },
    decaySteps: { required: true, ...positive },
    alpha: finite,
    exponent: finite,
  });
  return (step) => {
    const t = Math.min(step, decaySteps);
    const cosine = 0.5 * (1 + Math.cos((Math.PI * t) / decaySteps));
    return initValue * ((1 - alpha) * cosine ** exponent + alpha);
  };
}

/** Options of `warmupCosineDecaySchedule`. */
export interface WarmupCosineDecayScheduleOptions {
  initValue: number;
  peakValue: number;
  /** Steps of the linear warmup from initValue to peakValue. */
  warmupSteps: number;
  /** Total steps, warmup included (> warmupSteps). */
  decaySteps: number;
  /** Value at the end of the decay; default 0. */
  endValue?: number;
  /** Exponent of the cosine factor; default 1. */
  exponent?: number;
}

/**
 * optax.warmup_cosine_decay_schedule: for t < W = warmupSteps, `linearSchedule(I → P over W)(t)`;
 * from W on, `cosineDecaySchedule(P, decaySteps − W, α = E/P (0 when P = 0), exponent)(t − W)`,
 * with I = initValue, P = peakValue, E = endValue.
 *
 * @example
 * const lr = warmupCosineDecaySchedule({ initValue: 0, peakValue: 1e-3, warmupSteps: 100, decaySteps: 1000 });
 * const opt = new Adam(params, { lr });
 */
export function warmupCosineDecaySchedule(options: WarmupCosineDecayScheduleOptions): Schedule {
  const caller = "warmupCosineDecaySchedule";
  const o = read<WarmupCosineDecayScheduleOptions>(caller, options, {
    initValue: { required: true, ...finite },
    peakValue: { required: true, ...finite },
    warmupSteps: { required: true, ...finite },
    decaySteps: { required: true, ...finite },
    endValue: finite,
    exponent: finite,
  });
  const { initValue, peakValue, warmupSteps, decaySteps, endValue = 0, exponent = 1 } = o;
  if (!(decaySteps - warmupSteps > 0)) {
    throw new RangeError(`${caller}: options.decaySteps must be greater than options.warmupSteps (${warmupSteps}), got ${decaySteps}`);
  }
  const alpha = peakValue === 0 ? 0 : endValue / peakValue;
  const warmup = linearSchedule({ initValue, endValue: peakValue, transitionSteps: warmupSteps });
  const decay = cosineDecaySchedule({ initValue: peakValue, decaySteps: decaySteps - warmupSteps, alpha, exponent });
  return (step) => (step < warmupSteps ? warmup(step) : decay(step - warmupSteps));
}

/** Options of `exponentialDecay`. */
export interface ExponentialDecayOptions {
  initValue: number;
  /** Steps per factor of decayRate; ≤ 0 makes the schedule constant at initValue (as optax). */
  transitionSteps: number;
  /** The factor per transitionSteps; 0 makes the schedule constant at initValue (as optax). */
  decayRate: number;
  /** Steps before the decay starts (negative counts as 0); default 0. */
  transitionBegin?: number;
  /** Decay in whole steps of transitionSteps; default false. */
  staircase?: boolean;
  /** A lower bound when decayRate < 1, else an upper bound; default none. */
  endValue?: number;
}

/**
 * optax.exponential_decay: with d = t − transitionBegin and `p = d / transitionSteps` (floored
 * with staircase), value = `initValue` when d ≤ 0, else `initValue·decayRateᵖ`, bounded by
 * endValue when given (below when decayRate < 1, above otherwise).
 *
 * @example
 * const lr = exponentialDecay({ initValue: 0.1, transitionSteps: 1000, decayRate: 0.5 }); // halves every 1000 steps
 */
export function exponentialDecay(options: ExponentialDecayOptions): Schedule {
  const o = read<ExponentialDecayOptions>("exponentialDecay", options, {
    initValue: { required: true, ...finite },
    transitionSteps: { required: true, ...finite },
    decayRate: { required: true, ...finite },
    transitionBegin: finite,
    staircase: { boolean: true },
    endValue: finite,
  });
  const { initValue, transitionSteps, decayRate, transitionBegin = 0, staircase = false, endValue } = o;
  if (transitionSteps <= 0 || decayRate === 0) return () => initValue;
  const begin = Math.max(0, transitionBegin);
  return (step) => {
    const d = step - begin;
    let p = d / transitionSteps;
    if (staircase) p = Math.floor(p);
    const value = d <= 0 ? initValue : initValue * decayRate ** p;
    if (endValue === undefined) return value;
    return decayRate < 1 ? Math.max(value, endValue) : Math.min(value, endValue);
  };
}

/** Boundaries (step counts) and the factor each applies from there on. */
export type BoundariesAndScales = Readonly<Record<number, number>>;

/** The [boundary, scale] pairs of `boundariesAndScales`, sorted by boundary; scales must be ≥ 0. */
function sortedBoundaries(caller: string, boundariesAndScales: unknown): [number, number][] {
  if (boundariesAndScales === undefined) return [];
  if (boundariesAndScales === null || typeof boundariesAndScales !== "object" || Array.isArray(boundariesAndScales)) {
    throw new TypeError(`${caller}: options.boundariesAndScales must be an object { step: scale }, got ${kindOf(boundariesAndScales)}`);
  }
  const pairs = Object.entries(boundariesAndScales).map(([key, scale]): [number, number] => {
    const name = `options.boundariesAndScales[${key}]`;
    const boundary = Number(key);
    if (key.trim() === "" || !Number.isFinite(boundary)) throw new RangeError(`${caller}: ${name}: the boundary must be a finite number`);
    if (typeof scale !== "number") throw new TypeError(`${caller}: ${name} must be a number, got ${kindOf(scale)}`);
    if (!(scale >= 0) || !Number.isFinite(scale)) throw new RangeError(`${caller}: ${name} must be a finite number ≥ 0, got ${scale}`);
    return [boundary, scale];
  });
  return pairs.sort((a, b) => a[0] - b[0]);
}

/** Options of `piecewiseConstantSchedule`. */
export interface PiecewiseConstantScheduleOptions {
  initValue: number;
  /** `{ step: scale }`: from each step on, the value is multiplied by its scale (≥ 0). */
  boundariesAndScales?: BoundariesAndScales;
}

/**
 * optax.piecewise_constant_schedule: `initValue · Π scale_b` over the boundaries b ≤ t
 * (a boundary's scale applies from that step on).
 *
 * @example
 * const lr = piecewiseConstantSchedule({ initValue: 0.1, boundariesAndScales: { 30: 0.1, 60: 0.1 } });
 * // 0.1 for steps 0–29, 0.01 for 30–59, 0.001 from 60 on
 */
export function piecewiseConstantSchedule(options: PiecewiseConstantScheduleOptions): Schedule {
  const caller = "piecewiseConstantSchedule";
  const { initValue, boundariesAndScales } = read<PiecewiseConstantScheduleOptions>(caller, options, {
    initValue: { required: true, ...finite },
    boundariesAndScales: { other: true },
  });
  const pairs = sortedBoundaries(caller, boundariesAndScales);
  return (step) => {
    let value = initValue;
    for (const [boundary, scale] of pairs) if (step >= boundary) value *= scale;
    return value;
  };
}

type Interpolate = (start: number, end: number, pct: number) => number;
const linearInterpolate: Interpolate = (start, end, pct) => (end - start) * pct + start;
const cosineInterpolate: Interpolate = (start, end, pct) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);

/**
 * optax.piecewise_interpolate_schedule: values v₀ = init, vᵢ = vᵢ₋₁·scaleᵢ at boundaries
 * b₀ = 0 < b₁ < …; interpolated within [bᵢ, bᵢ₊₁); the last value from the last boundary on;
 * 0 before step 0. (Where optax's dot product turns a zero-length interval into NaN, an empty
 * interval is skipped here.)
 */
function piecewiseInterpolate(interpolate: Interpolate, init: number, entries: [number, number][]): Schedule {
  // Later entries replace earlier ones with the same boundary, as in a Python dict literal.
  const byBoundary = new Map<number, number>();
  for (const [boundary, scale] of entries) byBoundary.set(boundary, scale);
  const sorted = [...byBoundary].sort((a, b) => a[0] - b[0]);
  const bounds = [0, ...sorted.map(([b]) => b)];
  const values = [init];
  for (const [, scale] of sorted) values.push(values[values.length - 1] * scale);
  const last = bounds.length - 1;
  return (step) => {
    if (step >= bounds[last]) return values[last];
    for (let i = 0; i < last; i++) {
      if (bounds[i] <= step && step < bounds[i + 1]) {
        return interpolate(values[i], values[i + 1], (step - bounds[i]) / (bounds[i + 1] - bounds[i]));
      }
    }
    return 0;
  };
}

/** Options of `linearOnecycleSchedule`. */
export interface LinearOnecycleScheduleOptions {
  /** Steps of the whole cycle, > 0. */
  transitionSteps: number;
  /** The largest value, reached at pctStart of the cycle. */
  peakValue: number;
  /** Fraction of the cycle spent rising; default 0.3. */
  pctStart?: number;
  /** Fraction of the cycle at whose end the value is back at its start; default 0.85. */
  pctFinal?: number;
  /** The start is peakValue / divFactor; default 25. */
  divFactor?: number;
  /** The end is the start / finalDivFactor; default 1e4. */
  finalDivFactor?: number;
}

/**
 * optax.linear_onecycle_schedule (Smith, super-convergence): linear from `P/d` to P = peakValue
 * over steps [0, ⌊pctStart·T⌋), back to `P/d` by ⌊pctFinal·T⌋, then to `P/(d·f)` by T =
 * transitionSteps, constant after; d = divFactor, f = finalDivFactor.
 *
 * @example
 * const lr = linearOnecycleSchedule({ transitionSteps: 1000, peakValue: 0.1 });
 */
export function linearOnecycleSchedule(options: LinearOnecycleScheduleOptions): Schedule {
  const caller = "linearOnecycleSchedule";
  const o = read<LinearOnecycleScheduleOptions>(caller, options, {
    transitionSteps: { required: true, ...positive },
    peakValue: { required: true, ...finite },
    pctStart: unit,
    pctFinal: unit,
    divFactor: positive,
    finalDivFactor: positive,
  });
  const { transitionSteps: T, peakValue, pctStart = 0.3, pctFinal = 0.85, divFactor = 25, finalDivFactor = 1e4 } = o;
  if (pctFinal < pctStart) throw new RangeError(`${caller}: options.pctFinal (${pctFinal}) must be ≥ options.pctStart (${pctStart})`);
  return piecewiseInterpolate(linearInterpolate, peakValue / divFactor, [
    [Math.trunc(pctStart * T), divFactor],
    [Math.trunc(pctFinal * T), 1 / divFactor],
    [T, 1 / finalDivFactor],
  ]);
}

/** Options of `cosineOnecycleSchedule`. */
export interface CosineOnecycleScheduleOptions {
  /** Steps of the whole cycle, > 0. */
  transitionSteps: number;
  /** The largest value, reached at pctStart of the cycle. */
  peakValue: number;
  /** Fraction of the cycle spent rising; default 0.3. */
  pctStart?: number;
  /** The start is peakValue / divFactor; default 25. */
  divFactor?: number;
  /** The end is the start / finalDivFactor; default 1e4. */
  finalDivFactor?: number;
}

/**
 * optax.cosine_onecycle_schedule: cosine from `P/d` up to P = peakValue over [0, ⌊pctStart·T⌋),
 * then cosine down to `P/(d·f)` at T = transitionSteps, constant after; within an interval from
 * a to b, value = `b + (a − b)/2·(cos(π·pct) + 1)`.
 *
 * @example
 * const opt = new SGD(params, { lr: cosineOnecycleSchedule({ transitionSteps: 5000, peakValue: 0.4 }), momentum: 0.9 });
 */
export function cosineOnecycleSchedule(options: CosineOnecycleScheduleOptions): Schedule {
  const caller = "cosineOnecycleSchedule";
  const o = read<CosineOnecycleScheduleOptions>(caller, options, {
    transitionSteps: { required: true, ...positive },
    peakValue: { required: true, ...finite },
    pctStart: unit,
    divFactor: positive,
    finalDivFactor: positive,
  });
  const { transitionSteps: T, peakValue, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4 } = o;
  return piecewiseInterpolate(cosineInterpolate, peakValue / divFactor, [
    [Math.trunc(pctStart * T), divFactor],
    [Math.trunc(T), 1 / (divFactor * finalDivFactor)],
  ]);
}
