// Each rule's common-step loop (PHASE_STEP with a row unit's mean in one splat: no loads of hi/lo
// per vector, no branches on the phase) computes what the rule's generic loop computes, bit for
// bit. Two oracles: the generic loop itself, which out-last GC of the transposed matrix runs
// (column units, a mean per lane; SGD's momentum step, RMSprop's and Adagrad's have column loops
// of their own), and the scalar build, whose plain loops run every step (compared from the SIMD
// builds). Unit sums are exact in float64 here (|d| in [0.4, 1.1], 15 values a unit), so every
// layout and build splits the same mean into hi and lo.
import { describe, expect, test, vi } from "vitest";
import { Adadelta, Adagrad, Adam, Adamax, AdamW, backend, Lion, NAdam, RAdam, RMSprop, SGD } from "../../src/index.js";
import { expectBits } from "../bits.js";
import { uniform } from "../random.js";

const ROWS = 7; // units
const COLS = 15; // values a unit: three vectors and a scalar tail out-first

/** Values with |x| in [lo, hi], random signs. */
function spread(n: number, seed: number, lo: number, hi: number): Float32Array {
  const u = uniform(seed);
  return Float32Array.from({ length: n }, () => (u() < 0.5 ? -1 : 1) * (lo + (hi - lo) * u()));
}

/** The [ROWS, COLS] matrix x as the [COLS, ROWS] one (its rows as columns). */
function transpose(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < ROWS; r++) for (let c = 0; c < COLS; c++) out[c * ROWS + r] = x[r * COLS + c];
  return out;
}

type Rule = new (params: never[], options: Record<string, unknown>) => {
  step(): void;
  stateDict(): { state: Record<string, Record<string, unknown>> };
  dispose(): void;
};

const cases: [string, Record<string, unknown>, Rule][] = [
  ["SGD", { momentum: 0.9 }, SGD as never],
  ["SGD", { momentum: 0.9, dampening: 0.3 }, SGD as never],
  ["SGD", { momentum: 0.9, nesterov: true, weightDecay: 0.01 }, SGD as never],
  ["Adam", {}, Adam as never],
  ["Adam", { weightDecay: 0.01 }, Adam as never],
  ["AdamW", { weightDecay: 0.1 }, AdamW as never],
  ["RAdam", { weightDecay: 0.01 }, RAdam as never],
  ["NAdam", {}, NAdam as never],
  ["NAdam", { weightDecay: 0.01 }, NAdam as never],
  ["Adamax", {}, Adamax as never],
  ["Adamax", { weightDecay: 0.01, formula: "tfjs" }, Adamax as never],
  ["Adagrad", {}, Adagrad as never],
  ["Adagrad", { weightDecay: 0.01, formula: "tfjs" }, Adagrad as never],
  ["Adadelta", { lr: 1 }, Adadelta as never],
  ["Adadelta", { lr: 1, weightDecay: 0.01, formula: "tfjs" }, Adadelta as never],
  ["RMSprop", {}, RMSprop as never],
  ["RMSprop", { momentum: 0.9 }, RMSprop as never],
  ["RMSprop", { formula: "tfjs" }, RMSprop as never],
  ["RMSprop", { weightDecay: 0.01, formula: "tfjs", centered: true, momentum: 0.5 }, RMSprop as never],
  ["RMSprop", { centered: true }, RMSprop as never],
  ["Lion", { weightDecay: 0.1 }, Lion as never],
];

describe("each rule's common-step loop = its generic loop (gc gradient, out-first against out-last transposed)", () => {
  test.each(cases)("%s %j: w and state after 3 steps", (_name, extra, Kind) => {
    const n = ROWS * COLS;
    const w0 = spread(n, 1, 0, 1);
    const first = { value: w0.slice(), grad: new Float32Array(n), shape: [ROWS, COLS] };
    const last = { value: transpose(w0), grad: new Float32Array(n), shape: [COLS, ROWS] };
    const options = { lr: 1e-2, gc: "gradient", ...extra };
    const byRows = new Kind([first as never], { ...options, layout: "out-first" });
    const byColumns = new Kind([last as never], { ...options, layout: "out-last" });
    for (let t = 1; t <= 3; t++) {
      const g = spread(n, 10 + t, 0.5, 1);
      first.grad.set(g);
      last.grad.set(transpose(g));
      byRows.step();
      byColumns.step();
      expectBits(transpose(first.value), last.value, `w after step ${t}`);
    }
    expect(first.value.some((x, i) => x !== w0[i])).toBe(true);
    const rowState = byRows.stateDict().state[0];
    const columnState = byColumns.stateDict().state[0];
    const buffers = Object.keys(rowState).filter((k) => rowState[k] instanceof Float32Array);
    expect(buffers.length).toBeGreaterThan(0);
    for (const k of buffers) expectBits(transpose(rowState[k] as Float32Array), columnState[k] as Float32Array, k);
    byRows.dispose();
    byColumns.dispose();
  });
});

/** Runs 3 steps of `Kind` over a [rows, cols] parameter; returns w and the state buffers after them. */
function threeSteps(Kind: Rule, options: Record<string, unknown>, shape: [number, number]): Float32Array[] {
  const n = shape[0] * shape[1];
  const param = { value: spread(n, 1, 0, 1), grad: new Float32Array(n), shape };
  const opt = new Kind([param as never], { lr: 1e-2, ...options });
  for (let t = 1; t <= 3; t++) {
    param.grad.set(spread(n, 10 + t, 0.5, 1));
    opt.step();
  }
  const state = opt.stateDict().state[0];
  const out = [param.value, ...Object.keys(state).sort().filter((k) => state[k] instanceof Float32Array).map((k) => state[k] as Float32Array)];
  opt.dispose();
  return out;
}

describe.skipIf(backend() === "scalar")("every SIMD loop of every rule = the scalar build's loop (gc off and gradient, both layouts)", () => {
  test.each(cases)("%s %j", async (name, extra, Kind) => {
    vi.resetModules();
    const scalar = await import("../../src/index.js");
    await scalar.init({ simd: false });
    expect(scalar.backend()).toBe("scalar");
    const ScalarKind = (scalar as unknown as Record<string, Rule>)[name];
    for (const gc of [false, "gradient"]) {
      for (const [layout, shape] of [["out-first", [ROWS, COLS]], ["out-last", [COLS, ROWS]]] as const) {
        const options = { gc, layout, ...extra };
        const expected = threeSteps(ScalarKind, options, [...shape]);
        const actual = threeSteps(Kind, options, [...shape]);
        expect(actual.length).toBe(expected.length);
        actual.forEach((a, k) => expectBits(a, expected[k], `${layout} gc ${gc} output ${k}`));
      }
    }
  });
});
