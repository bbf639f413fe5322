// Issue 10 item 11: with L2 (weightDecay > 0) and gc "gradient", GC centers the float32 direction
// the rule uses, d = fl(g + fl(wd·w)), so a unit whose centered direction is zero in exact
// arithmetic gets a zero step. Before, the kernel added wd·w after centering g with the mean of
// Σg + wd·Σw; the residue ≈ 2⁻²⁴·wd·|w| per value was turned into lr-sized steps by Adam's
// normalisation (Linear(1, 8), lr 1e-3, wd 0.1, 100 steps: w − w0 up to 1.3e-3 where the float64
// reference never moves).
import { expect, test } from "vitest";
import { Adam, SGD } from "../../src/index.js";
import type { Param } from "../../src/index.js";
import { RULES } from "../optim-rules.js";
import { centralizeReference, type Layout } from "../oracle.js";
import { randomArray } from "../random.js";

const U = 2 ** -24;

type Make = (params: Param[], options: { lr: number; weightDecay: number; layout: Layout }) => { step(): void; dispose(): void };

/** Every rule that adds L2 to its gradient (Lion's decay is decoupled: GC centers g alone). */
const COUPLED: [string, Make][] = [
  ["SGD", (p, o) => new SGD(p, o)],
  ["SGD momentum, nesterov", (p, o) => new SGD(p, { ...o, momentum: 0.9, nesterov: true })],
  ["Adam", (p, o) => new Adam(p, o)],
  ["Adam amsgrad", (p, o) => new Adam(p, { ...o, amsgrad: true })],
  ...RULES.filter((r) => r.name !== "Lion").map((r): [string, Make] => [r.name, (p, o) => r.make(p, o)]),
  ["RMSprop centered, momentum", (p, o) => RULES.find((r) => r.name === "RMSprop")!.make(p, { ...o, centered: true, momentum: 0.9 })],
];

/** Units of one value each: out-first [8, 1] (a Linear(1, 8)) and out-last [1, 8]. */
const SINGLE_VALUE_UNITS: [number[], Layout][] = [
  [[8, 1], "out-first"],
  [[1, 8], "out-last"],
  [[5, 1, 1, 1], "out-first"], // a 1×1 conv with one input channel
  [[1, 1, 1, 5], "out-last"],
];

test.each(COUPLED)("%s, L2 + gc \"gradient\": units of one value never move (100 steps)", (_, make) => {
  for (const [shape, layout] of SINGLE_VALUE_UNITS) {
    const n = shape.reduce((a, b) => a * b, 1);
    const w0 = randomArray(n, 3, 0, 1);
    const w = Float32Array.from(w0);
    const g = new Float32Array(n);
    const opt = make([{ value: w, grad: g, shape }], { lr: 1e-3, weightDecay: 0.1, layout });
    for (let t = 0; t < 100; t++) {
      g.set(randomArray(n, 100 + t, 0.3, 1));
      opt.step();
    }
    opt.dispose();
    expect(Array.from(w)).toEqual(Array.from(w0));
  }
});

test.each(["out-first", "out-last"] as Layout[])(
  "the centered direction is P(fl(g + wd·w)) to float32 rounding of each centered value (SGD's first momentum buffer, %s)",
  (layout) => {
    for (const shape of [[6, 5], [4, 3, 3, 3], [3, 17], [17, 3]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const w = randomArray(n, 7, 0, 2);
      const g = randomArray(n, 8, 0.3, 1);
      const wd = Math.fround(0.1);
      const opt = new SGD([{ value: Float32Array.from(w), grad: g, shape }], { lr: 0.1, momentum: 0.9, weightDecay: 0.1, layout });
      opt.step();
      const buffer = opt.stateDict().state[0].momentumBuffer as Float32Array;
      opt.dispose();
      const d = Array.from(g, (x, i) => Math.fround(x + Math.fround(wd * w[i])));
      const expected = centralizeReference(d, shape, layout);
      const scale = Math.max(...d.map(Math.abs));
      // (d − hi) − lo rounds twice, each ≤ u·|result|, and hi + lo carry the float64 mean to ≤ u²·|mean|
      buffer.forEach((b, i) => expect(Math.abs(b - expected[i])).toBeLessThanOrEqual(2 * U * Math.abs(expected[i]) + 4 * U * U * scale));
    }
  },
);
