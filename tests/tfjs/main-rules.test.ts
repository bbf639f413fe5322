// train.adamw / radam / nadam / lion / ranger against the main entry's optimizer of the same rule
// fed the same gradients (Tensors in linear memory, layout "out-last"): the same kernels, so the
// weights must agree exactly; excludeFromWeightDecay (strings and RegExps) turns the decay off by name.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, test } from "vitest";
import { AdamW, Lion, NAdam, RAdam, Ranger, Tensor } from "../../src/index.js";
import { init, train } from "../../src/tfjs/index.js";
import { randomArray } from "../random.js";

const SHAPES: Record<string, number[]> = { kernel: [7, 5], bias: [5], conv: [3, 3, 2, 4] };
const STEPS = 14; // past Ranger's k = 6 twice, past RAdam's ρₜ > 5 threshold
let made = 0;

interface MainOptimizer {
  step(): void;
  dispose(): void;
}

type Case = [string, (options: Record<string, unknown>) => tf.Optimizer, (params: { value: Tensor; grad: Tensor }[], decays: boolean[]) => MainOptimizer[]];

/** The main entry's optimizer per decay setting: decayed and excluded parameters differ only in weightDecay. */
const cases: Case[] = [
  ["adamw", (o) => train.adamw(3e-3, { weightDecay: 0.1, ...o }), (p, d) => p.map((param, i) => new AdamW([param], { lr: 3e-3, weightDecay: d[i] ? 0.1 : 0, layout: "out-last" }))],
  ["radam", (o) => train.radam(3e-3, { weightDecay: 0.1, ...o }), (p, d) => p.map((param, i) => new RAdam([param], { lr: 3e-3, weightDecay: d[i] ? 0.1 : 0, layout: "out-last" }))],
  ["nadam", (o) => train.nadam(3e-3, { weightDecay: 0.1, ...o }), (p, d) => p.map((param, i) => new NAdam([param], { lr: 3e-3, weightDecay: d[i] ? 0.1 : 0, layout: "out-last" }))],
  ["lion", (o) => train.lion(1e-3, { weightDecay: 0.5, ...o }), (p, d) => p.map((param, i) => new Lion([param], { lr: 1e-3, weightDecay: d[i] ? 0.5 : 0, layout: "out-last" }))],
  ["ranger", (o) => train.ranger(3e-3, { weightDecay: 0.1, ...o }), (p, d) => p.map((param, i) => new Ranger([param], { lr: 3e-3, weightDecay: d[i] ? 0.1 : 0, layout: "out-last" }))],
];

describe.each(["cpu", "wasm"])("%s backend", (backend) => {
  beforeAll(async () => {
    await init();
    expect(await tf.setBackend(backend)).toBe(true);
  });

  for (const gc of ["gradient", "update", false] as const) {
    test.each(cases)(`%s (gc ${gc}) equals the main entry's optimizer; excluded variables are not decayed`, (_name, ours, main) => {
      const run = made++;
      const names = Object.keys(SHAPES);
      const initial = names.map((key, k) => randomArray(SHAPES[key].reduce((a, b) => a * b, 1), 70 + k, 0, 0.5));
      const vars = names.map((key, k) => tf.variable(tf.tensor(initial[k], SHAPES[key]), true, `main_rules_${run}/${key}`));
      const params = names.map((key, k) => ({ value: Tensor.from(initial[k], SHAPES[key]), grad: new Tensor(SHAPES[key]) }));
      // "bias" by substring, the conv kernel by RegExp; the dense kernel decays
      const optimizer = ours({ gc, excludeFromWeightDecay: ["bias", /\/conv$/] });
      const reference = main(params, [true, false, false]);
      if (gc !== "gradient") for (const o of reference) setGc(o, gc);
      for (let t = 0; t < STEPS; t++) {
        const grads = names.map((key, k) => randomArray(SHAPES[key].reduce((a, b) => a * b, 1), 300 + 10 * t + k, 0.2));
        const tensors = grads.map((g, k) => tf.tensor(g, SHAPES[names[k]]));
        optimizer.applyGradients(vars.map((v, k) => ({ name: v.name, tensor: tensors[k] })));
        tf.dispose(tensors);
        params.forEach((p, k) => p.grad.data.set(grads[k]));
        reference.forEach((o) => o.step());
      }
      vars.forEach((v, k) => expect(Array.from(v.dataSync()), names[k]).toEqual(Array.from(params[k].value.data)));
      optimizer.dispose();
      reference.forEach((o) => o.dispose());
      params.forEach((p) => (p.value.dispose(), p.grad.dispose()));
      tf.dispose(vars);
    });
  }

  test("excludeFromWeightDecay changes exactly the excluded variables", () => {
    const run = made++;
    const kernel = tf.variable(tf.ones([4, 3]), true, `exclude_${run}/dense/kernel`);
    const bias = tf.variable(tf.ones([3]), true, `exclude_${run}/dense/bias`);
    const optimizer = train.adamw(0.1, { weightDecay: 0.5, gc: false, excludeFromWeightDecay: [/bias$/] });
    const zeros = [tf.zeros([4, 3]), tf.zeros([3])];
    optimizer.applyGradients([{ name: kernel.name, tensor: zeros[0] }, { name: bias.name, tensor: zeros[1] }]);
    // zero gradients: Adam's step is 0, only the decay moves: w·(1 − lr·wd) = 0.95
    expect(Array.from(kernel.dataSync())).toEqual(new Array(12).fill(Math.fround(0.95)));
    expect(Array.from(bias.dataSync())).toEqual([1, 1, 1]);
    tf.dispose([kernel, bias, ...zeros]);
    optimizer.dispose();
  });
});

/** The main entry's optimizer with its group's gc set (Ranger: its inner RAdam's). */
function setGc(optimizer: MainOptimizer, gc: "update" | false): void {
  const groups = (optimizer as unknown as { paramGroups: { gc: unknown }[] }).paramGroups;
  for (const group of groups) group.gc = gc;
}
