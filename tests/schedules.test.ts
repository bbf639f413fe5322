// The schedule makers against optax's formulas, written here independently as case analyses over
// the step (the cases of optax's docstrings), in float64, at the boundaries and in between.
import { describe, expect, test } from "vitest";
import {
  constantSchedule,
  cosineDecaySchedule,
  cosineOnecycleSchedule,
  exponentialDecay,
  linearOnecycleSchedule,
  linearSchedule,
  piecewiseConstantSchedule,
  warmupCosineDecaySchedule,
  type Schedule,
} from "../src/index.js";

/** Every step in `steps` gives the expected value to within 1e-12 relative (float64 rounding). */
function expectValues(schedule: Schedule, expected: (t: number) => number, steps: number[]): void {
  for (const t of steps) {
    const want = expected(t);
    const got = schedule(t);
    expect(Math.abs(got - want), `step ${t}: got ${got}, expected ${want}`).toBeLessThanOrEqual(1e-12 * Math.max(1e-300, Math.abs(want)));
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test("constantSchedule", () => {
  expectValues(constantSchedule(5), () => 5, [0, 1, 100, 1e9]);
});

describe("linearSchedule: I before B, I + (t − B)/T·(E − I) on [B, B + T), E after", () => {
  const cases = [
    { initValue: 1, endValue: 0.01, transitionSteps: 100 },
    { initValue: 1, endValue: 0.01, transitionSteps: 100, transitionBegin: 5 },
    { initValue: 0, endValue: 3e-3, transitionSteps: 7, transitionBegin: 2 },
  ];
  test.each(cases)("%o", (o) => {
    const B = o.transitionBegin ?? 0;
    const T = o.transitionSteps;
    const expected = (t: number) => (t < B ? o.initValue : t < B + T ? o.initValue + ((t - B) / T) * (o.endValue - o.initValue) : o.endValue);
    expectValues(linearSchedule(o), expected, [...range(120), B - 1, B, B + 1, B + T - 1, B + T, B + T + 1, 1e6].filter((t) => t >= 0));
  });
  test("optax's documented values (1 at step 0, 0.01 at step 100) and, with begin 5, 0.9901 at 6 and 0.0199 at 104", () => {
    expect(linearSchedule({ initValue: 1, endValue: 0.01, transitionSteps: 100 })(0)).toBe(1);
    expect(linearSchedule({ initValue: 1, endValue: 0.01, transitionSteps: 100 })(100)).toBeCloseTo(0.01, 15);
    // optax's polynomial_schedule docstring has 0.9803 and 0.0101 there for power 2; power 1 gives 1 − 0.99·(1/100), 1 − 0.99·(99/100):
    expect(linearSchedule({ initValue: 1, endValue: 0.01, transitionSteps: 100, transitionBegin: 5 })(6)).toBeCloseTo(0.9901, 12);
    expect(linearSchedule({ initValue: 1, endValue: 0.01, transitionSteps: 100, transitionBegin: 5 })(104)).toBeCloseTo(0.0199, 12);
  });
  test("transitionSteps ≤ 0 holds initValue; a negative transitionBegin counts as 0 (as optax)", () => {
    expectValues(linearSchedule({ initValue: 0.3, endValue: 1, transitionSteps: 0 }), () => 0.3, [0, 5, 100]);
    const a = linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 10, transitionBegin: -4 });
    const b = linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 10 });
    for (const t of range(15)) expect(a(t)).toBe(b(t));
  });
});

describe("cosineDecaySchedule: I·((1 − α)·(½(1 + cos(π·min(t, T)/T)))ᵖ + α)", () => {
  const cases = [
    { initValue: 0.1, decaySteps: 100 },
    { initValue: 0.1, decaySteps: 100, alpha: 0.05 },
    { initValue: 2, decaySteps: 37, alpha: 0.2, exponent: 2 },
  ];
  test.each(cases)("%o", (o) => {
    const { initValue: I, decaySteps: T, alpha = 0, exponent = 1 } = o;
    const expected = (t: number) => (t >= T ? I * alpha : I * ((1 - alpha) * ((1 + Math.cos((Math.PI * t) / T)) / 2) ** exponent + alpha));
    expectValues(cosineDecaySchedule(o), expected, [...range(T + 3), Math.floor(T / 2), 10 * T]);
  });
  test("boundaries: I at 0, I·(1 + α)/2 at T/2 (p = 1), I·α from T on", () => {
    const s = cosineDecaySchedule({ initValue: 0.1, decaySteps: 100, alpha: 0.1 });
    expect(s(0)).toBe(0.1);
    expect(s(50)).toBeCloseTo(0.1 * 0.55, 15);
    expect(s(100)).toBeCloseTo(0.01, 15);
    expect(s(1000)).toBeCloseTo(0.01, 15);
  });
});

describe("warmupCosineDecaySchedule: linear I → P over W, then cosine P → E over decaySteps − W", () => {
  const cases = [
    { initValue: 0, peakValue: 1e-3, warmupSteps: 10, decaySteps: 100 },
    { initValue: 1e-4, peakValue: 1e-2, warmupSteps: 5, decaySteps: 50, endValue: 1e-5, exponent: 1.5 },
    { initValue: 0.5, peakValue: 1, warmupSteps: 0, decaySteps: 20, endValue: 0.1 },
  ];
  test.each(cases)("%o", (o) => {
    const { initValue: I, peakValue: P, warmupSteps: W, decaySteps: D, endValue: E = 0, exponent = 1 } = o;
    const alpha = P === 0 ? 0 : E / P;
    const expected = (t: number) => {
      if (t < W) return I + (t / W) * (P - I);
      const s = Math.min(t - W, D - W);
      return P * ((1 - alpha) * ((1 + Math.cos((Math.PI * s) / (D - W))) / 2) ** exponent + alpha);
    };
    expectValues(warmupCosineDecaySchedule(o), expected, [...range(D + 5), 10 * D]);
    const s = warmupCosineDecaySchedule(o);
    expect(s(W)).toBeCloseTo(P, 15); // the peak at the end of the warmup
    expect(s(D)).toBeCloseTo(E, 15); // the end value at decaySteps
  });
  test("decaySteps must exceed warmupSteps (optax raises)", () => {
    expect(() => warmupCosineDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 10 })).toThrow(RangeError);
    expect(() => warmupCosineDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 10 })).toThrow(/^warmupCosineDecaySchedule: options\.decaySteps must be greater than options\.warmupSteps/);
  });
});

describe("exponentialDecay: I for t ≤ B, I·r^((t − B)/T) after (floored with staircase), bounded by E", () => {
  const cases = [
    { initValue: 0.1, transitionSteps: 10, decayRate: 0.5 },
    { initValue: 0.1, transitionSteps: 10, decayRate: 0.5, staircase: true },
    { initValue: 0.1, transitionSteps: 7, decayRate: 0.9, transitionBegin: 5, endValue: 0.07 },
    { initValue: 0.1, transitionSteps: 4, decayRate: 1.5, endValue: 0.3 },
    { initValue: 1, transitionSteps: 3, decayRate: 0.8, transitionBegin: 2, staircase: true },
  ];
  test.each(cases)("%o", (o) => {
    const { initValue: I, transitionSteps: T, decayRate: r, transitionBegin: B = 0, staircase = false, endValue } = o;
    const expected = (t: number) => {
      if (t <= B) return I;
      const p = staircase ? Math.floor((t - B) / T) : (t - B) / T;
      const v = I * r ** p;
      if (endValue === undefined) return v;
      return r < 1 ? Math.max(v, endValue) : Math.min(v, endValue);
    };
    expectValues(exponentialDecay(o), expected, [...range(60), 1000]);
  });
  test("transitionSteps ≤ 0 or decayRate 0 hold initValue (as optax)", () => {
    expectValues(exponentialDecay({ initValue: 0.2, transitionSteps: 0, decayRate: 0.5 }), () => 0.2, [0, 1, 50]);
    expectValues(exponentialDecay({ initValue: 0.2, transitionSteps: 10, decayRate: 0 }), () => 0.2, [0, 1, 50]);
  });
});

describe("piecewiseConstantSchedule: I times the scale of every boundary ≤ t", () => {
  test("steps 0–29: 0.1; 30–59: 0.01; from 60: 0.001", () => {
    const s = piecewiseConstantSchedule({ initValue: 0.1, boundariesAndScales: { 30: 0.1, 60: 0.1 } });
    expectValues(s, (t) => (t < 30 ? 0.1 : t < 60 ? 0.1 * 0.1 : 0.1 * 0.1 * 0.1), [0, 1, 29, 30, 31, 59, 60, 61, 1000]);
  });
  test("boundaries are sorted, scales may exceed 1, a scale of 0 stops", () => {
    const s = piecewiseConstantSchedule({ initValue: 2, boundariesAndScales: { 50: 0, 10: 3, 20: 0.5 } });
    expectValues(s, (t) => (t < 10 ? 2 : t < 20 ? 6 : t < 50 ? 3 : 0), [0, 9, 10, 19, 20, 49, 50, 99]);
    expectValues(piecewiseConstantSchedule({ initValue: 0.7 }), () => 0.7, [0, 10]);
  });
  test("negative scales are refused (optax raises)", () => {
    expect(() => piecewiseConstantSchedule({ initValue: 1, boundariesAndScales: { 5: -1 } })).toThrow(/^piecewiseConstantSchedule: options\.boundariesAndScales\[5\] must be a finite number ≥ 0/);
  });
});

/** Linear or cosine interpolation between the listed (step, value) knots; the last value after. */
function knots(points: [number, number][], cosine: boolean) {
  return (t: number) => {
    for (let i = 0; i + 1 < points.length; i++) {
      const [a, va] = points[i];
      const [b, vb] = points[i + 1];
      if (t >= a && t < b) {
        const pct = (t - a) / (b - a);
        return cosine ? vb + ((va - vb) / 2) * (Math.cos(Math.PI * pct) + 1) : va + pct * (vb - va);
      }
    }
    return points[points.length - 1][1];
  };
}

describe("onecycle schedules", () => {
  test("linearOnecycleSchedule: P/d → P by ⌊0.3T⌋, → P/d by ⌊0.85T⌋, → P/(d·f) by T", () => {
    for (const T of [100, 37]) {
      const P = 0.4;
      const d = 25;
      const f = 1e4;
      const expected = knots([[0, P / d], [Math.floor(0.3 * T), P], [Math.floor(0.85 * T), P / d], [T, P / d / f]], false);
      expectValues(linearOnecycleSchedule({ transitionSteps: T, peakValue: P }), expected, [...range(T + 3), 10 * T]);
    }
    const custom = linearOnecycleSchedule({ transitionSteps: 50, peakValue: 1, pctStart: 0.2, pctFinal: 0.6, divFactor: 10, finalDivFactor: 100 });
    expectValues(custom, knots([[0, 0.1], [10, 1], [30, 0.1], [50, 0.001]], false), range(55));
    expect(custom(10)).toBe(1);
  });
  test("cosineOnecycleSchedule: cosine P/d → P by ⌊0.3T⌋, then → P/(d·f) by T", () => {
    for (const T of [100, 37]) {
      const P = 0.4;
      const expected = knots([[0, P / 25], [Math.floor(0.3 * T), P], [T, P / 25 / 1e4]], true);
      expectValues(cosineOnecycleSchedule({ transitionSteps: T, peakValue: P }), expected, [...range(T + 3), 10 * T]);
    }
    const s = cosineOnecycleSchedule({ transitionSteps: 100, peakValue: 1 });
    expect(s(15)).toBeCloseTo(0.52, 15); // halfway up: (0.04 + 1)/2
    expect(s(30)).toBe(1);
  });
  test("transitionSteps must be > 0 (optax raises); pctFinal ≥ pctStart", () => {
    expect(() => linearOnecycleSchedule({ transitionSteps: 0, peakValue: 1 })).toThrow(/^linearOnecycleSchedule: options\.transitionSteps must be a finite number > 0, got 0/);
    expect(() => cosineOnecycleSchedule({ transitionSteps: -3, peakValue: 1 })).toThrow(RangeError);
    expect(() => linearOnecycleSchedule({ transitionSteps: 10, peakValue: 1, pctStart: 0.5, pctFinal: 0.4 })).toThrow(/pctFinal \(0\.4\) must be ≥ options\.pctStart/);
  });
});

describe("bad options name the maker and the option", () => {
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ["a missing option", () => linearSchedule({ initValue: 1, endValue: 0 } as never), TypeError, /^linearSchedule: options\.transitionSteps is required/],
    ["an unknown option", () => cosineDecaySchedule({ initValue: 1, decaySteps: 10, decay: 1 } as never), TypeError, /^cosineDecaySchedule: options\.decay is not an option \(known: initValue, decaySteps, alpha, exponent\)/],
    ["a string", () => exponentialDecay({ initValue: "0.1", transitionSteps: 1, decayRate: 0.5 } as never), TypeError, /^exponentialDecay: options\.initValue must be a number, got string/],
    ["NaN", () => cosineDecaySchedule({ initValue: NaN, decaySteps: 10 }), RangeError, /^cosineDecaySchedule: options\.initValue must be a finite number, got NaN/],
    ["decaySteps 0", () => cosineDecaySchedule({ initValue: 1, decaySteps: 0 }), RangeError, /^cosineDecaySchedule: options\.decaySteps must be a finite number > 0/],
    ["staircase not a boolean", () => exponentialDecay({ initValue: 1, transitionSteps: 1, decayRate: 0.5, staircase: 1 } as never), TypeError, /^exponentialDecay: options\.staircase must be a boolean/],
    ["options not an object", () => linearOnecycleSchedule(5 as never), TypeError, /^linearOnecycleSchedule: options must be an object, got number/],
    ["pctStart above 1", () => cosineOnecycleSchedule({ transitionSteps: 10, peakValue: 1, pctStart: 1.5 }), RangeError, /^cosineOnecycleSchedule: options\.pctStart must be in \[0, 1\]/],
    ["constantSchedule of Infinity", () => constantSchedule(Infinity), RangeError, /^constantSchedule: value must be a finite number/],
    ["a boundary that is not a number", () => piecewiseConstantSchedule({ initValue: 1, boundariesAndScales: { ten: 0.1 } as never }), RangeError, /boundariesAndScales\[ten\]: the boundary must be a finite number/],
  ];
  test.each(cases)("%s", (_, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});
