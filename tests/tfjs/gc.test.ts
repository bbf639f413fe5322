// GC in tf.train's seven rules against the float64 references (tests/optim-oracle.ts: SGD and
// tf.train's formulas) fed the same gradients through applyGradients: "gradient" and "update",
// each output unit on TF.js's last axis, the unitAxis and convOnly options; for the centralized
// variables, each unit's mean step is ~0 wherever the rule makes it so (every "update" step, and
// the "gradient" steps of SGD and momentum, linear in the centered gradients).
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, test } from "vitest";
import { init, train } from "../../src/tfjs/index.js";
import {
  type GcMode,
  type ReferenceParam,
  SgdReference,
  TfjsAdadeltaReference,
  TfjsAdagradReference,
  TfjsAdamaxReference,
  TfjsAdamReference,
  TfjsRMSpropReference,
} from "../optim-oracle.js";
import { type Layout, unitIndices } from "../oracle.js";
import { randomArray } from "../random.js";

const SHAPES: Record<string, number[]> = { dense: [6, 5], bias: [5], conv: [3, 3, 2, 4] };
const STEPS = 6;
const TOLERANCE = 1e-5;

let made = 0;

/** Fresh variables (unique names) with seeded values, and float64 copies for the reference. */
function variables(): { vars: Record<string, tf.Variable>; params: ReferenceParam[] } {
  const run = made++;
  const vars: Record<string, tf.Variable> = {};
  const params: ReferenceParam[] = [];
  Object.entries(SHAPES).forEach(([key, shape], k) => {
    const values = randomArray(shape.reduce((a, b) => a * b, 1), 50 + k, 0, 0.5);
    vars[key] = tf.variable(tf.tensor(values, shape), true, `gc_test_${run}/${key}`);
    params.push({ value: Float64Array.from(values), shape });
  });
  return { vars, params };
}

/** Seeded gradients of step `t`, as Float32Arrays (one per variable). */
function gradients(t: number): Float32Array[] {
  return Object.values(SHAPES).map((shape, k) => randomArray(shape.reduce((a, b) => a * b, 1), 900 + 10 * t + k, 0.3));
}

/** The largest |mean of Δ over a unit| / (largest |Δ|) over every unit of `shape` (out-last, or `layout`). */
function worstUnitMean(delta: ArrayLike<number>, shape: readonly number[], layout: Layout = "out-last"): number {
  let largest = 0;
  for (let i = 0; i < delta.length; i++) largest = Math.max(largest, Math.abs(delta[i]));
  let worst = 0;
  for (const unit of unitIndices(shape, layout)) {
    let sum = 0;
    for (const i of unit) sum += delta[i];
    worst = Math.max(worst, Math.abs(sum / unit.length) / largest);
  }
  return worst;
}

function worstRelative(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (Math.abs(want[i]) + 1e-2));
  return worst;
}

type Rule = "sgd" | "momentum" | "adam" | "adamax" | "adagrad" | "adadelta" | "rmsprop";

interface Run {
  optimizer: tf.Optimizer;
  reference: { step(grads: ArrayLike<number>[], settings: never[]): void };
  settings: Record<string, unknown>;
}

/** Each rule's optimizer and its float64 reference (tf.train's formulas: tests/optim-oracle.ts). */
function setup(rule: Rule, gc: GcMode, params: ReferenceParam[], options: Record<string, unknown> = {}, layout: Layout = "out-last"): Run {
  const o = { gc, ...options };
  const common = { gc, convOnly: (options.convOnly as boolean | undefined) ?? false, layout, weightDecay: 0 };
  switch (rule) {
    case "sgd":
      return { optimizer: train.sgd(0.05, o), reference: new SgdReference(params), settings: { ...common, lr: 0.05, momentum: 0, dampening: 0, nesterov: false } };
    case "momentum":
      return { optimizer: train.momentum(0.05, 0.9, true, o), reference: new SgdReference(params), settings: { ...common, lr: 0.05, momentum: 0.9, dampening: 0, nesterov: true } };
    case "adam":
      return { optimizer: train.adam(0.01, 0.9, 0.999, 1e-7, o), reference: new TfjsAdamReference(params), settings: { ...common, lr: 0.01, betas: [0.9, 0.999], eps: 1e-7 } };
    case "adamax":
      return { optimizer: train.adamax(0.01, 0.9, 0.99, 1e-7, 0.1, o), reference: new TfjsAdamaxReference(params), settings: { ...common, lr: 0.01, betas: [0.9, 0.99], eps: 1e-7, lrDecay: 0.1 } };
    case "adagrad":
      return { optimizer: train.adagrad(0.1, 0.2, o), reference: new TfjsAdagradReference(params), settings: { ...common, lr: 0.1, lrDecay: 0, initialAccumulatorValue: 0.2, eps: 1e-7 } };
    case "adadelta":
      return { optimizer: train.adadelta(1, 0.9, 1e-6, o), reference: new TfjsAdadeltaReference(params), settings: { ...common, lr: 1, rho: 0.9, eps: 1e-6 } };
    case "rmsprop":
      return { optimizer: train.rmsprop(0.01, 0.9, 0.5, 1e-7, false, o), reference: new TfjsRMSpropReference(params), settings: { ...common, lr: 0.01, alpha: 0.9, eps: 1e-7, momentum: 0.5, centered: false } };
  }
}

/** Rules whose step is a linear function of the centered gradients (so "gradient" centers the step too). */
const LINEAR: Rule[] = ["sgd", "momentum"];

describe.each(["cpu", "wasm"])("%s backend", (backend) => {
  beforeAll(async () => {
    await init();
    expect(await tf.setBackend(backend)).toBe(true);
  });

  for (const gc of ["gradient", "update"] as const) {
    for (const rule of ["sgd", "momentum", "adam", "adamax", "adagrad", "adadelta", "rmsprop"] as const) {
      test(`${rule}, gc "${gc}": the float64 reference's weights; unit means of each step ≈ 0 where the rule keeps them`, () => {
        const { vars, params } = variables();
        const { optimizer, reference, settings } = setup(rule, gc, params);
        const names = Object.keys(SHAPES);
        for (let t = 0; t < STEPS; t++) {
          const grads = gradients(t);
          const before = names.map((key) => vars[key].dataSync().slice());
          const tensors = grads.map((g, k) => tf.tensor(g, SHAPES[names[k]]));
          // the map form on even steps, the list form on odd ones
          optimizer.applyGradients(
            t % 2 === 0 ? Object.fromEntries(names.map((key, k) => [vars[key].name, tensors[k]])) : names.map((key, k) => ({ name: vars[key].name, tensor: tensors[k] })),
          );
          tf.dispose(tensors);
          reference.step(grads, params.map(() => settings) as never[]);
          names.forEach((key, k) => {
            const after = vars[key].dataSync();
            const delta = after.map((x, i) => x - before[k][i]);
            if (SHAPES[key].length > 1 && (gc === "update" || LINEAR.includes(rule))) expect(worstUnitMean(delta, SHAPES[key]), `${key} step ${t}`).toBeLessThan(1e-5);
            if (key === "bias") expect(worstUnitMean(delta, SHAPES[key])).toBeGreaterThan(1e-3); // rank 1: not centralized
          });
        }
        expect(optimizer.iterations).toBe(STEPS);
        names.forEach((key, k) => expect(worstRelative(vars[key].dataSync(), params[k].value), key).toBeLessThan(TOLERANCE));
        optimizer.dispose();
        Object.values(vars).forEach((v) => v.dispose());
      });
    }
  }

  test("convOnly: only the rank-4 kernel is centralized", () => {
    const { vars, params } = variables();
    const { optimizer, reference, settings } = setup("sgd", "gradient", params, { convOnly: true });
    const names = Object.keys(SHAPES);
    const grads = gradients(0);
    const tensors = grads.map((g, k) => tf.tensor(g, SHAPES[names[k]]));
    const before = names.map((key) => vars[key].dataSync().slice());
    optimizer.applyGradients(names.map((key, k) => ({ name: vars[key].name, tensor: tensors[k] })));
    reference.step(grads, params.map(() => settings) as never[]);
    names.forEach((key, k) => expect(worstRelative(vars[key].dataSync(), params[k].value), key).toBeLessThan(TOLERANCE));
    // the dense kernel moved with its unit means (not centralized), the conv kernel without
    const step = (k: number) => vars[names[k]].dataSync().map((x, i) => x - before[k][i]);
    expect(worstUnitMean(step(0), SHAPES.dense)).toBeGreaterThan(1e-3);
    expect(worstUnitMean(step(2), SHAPES.conv)).toBeLessThan(1e-5);
    tf.dispose([...tensors, ...Object.values(vars)]);
    optimizer.dispose();
  });

  test("unitAxis: axis 0 (out-first) for the dense kernel, null (no GC) for the conv kernel", () => {
    const { vars, params } = variables();
    params[2].gc = false;
    const unitAxis = (name: string) => (name.endsWith("/dense") ? 0 : name.endsWith("/conv") ? null : -1);
    const { optimizer, reference, settings } = setup("adam", "update", params, { unitAxis }, "out-first");
    const names = Object.keys(SHAPES);
    for (let t = 0; t < 3; t++) {
      const grads = gradients(t);
      const tensors = grads.map((g, k) => tf.tensor(g, SHAPES[names[k]]));
      const before = vars.dense.dataSync().slice();
      optimizer.applyGradients(Object.fromEntries(names.map((key, k) => [vars[key].name, tensors[k]])));
      tf.dispose(tensors);
      reference.step(grads, params.map(() => settings) as never[]);
      const delta = vars.dense.dataSync().map((x, i) => x - before[i]);
      expect(worstUnitMean(delta, SHAPES.dense, "out-first")).toBeLessThan(1e-5);
      expect(worstUnitMean(delta, SHAPES.dense, "out-last")).toBeGreaterThan(1e-3);
    }
    names.forEach((key, k) => expect(worstRelative(vars[key].dataSync(), params[k].value), key).toBeLessThan(TOLERANCE));
    tf.dispose(Object.values(vars));
    optimizer.dispose();
  });
});
