// Saving and loading TF.js models with their optimizer (`model.save(…, { includeOptimizer: true })`,
// tf.io.withSaveHandler → tf.io.fromMemory), on real models (the digits MLP and a small conv net):
// a run saved after N steps, loaded and continued for M steps must equal an uninterrupted N + M run.
// The oracle is the uninterrupted run itself; what TF.js's own optimizers do is the baseline.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll, describe, expect, test } from "vitest";
import { withGradientCentralization } from "../../src/tfjs/index.js";
import {
  batchesOf, buildModel, compile, loadDigits, loadFromMemory, maxAbsDiffs, savedOptimizerConfig, savedOptimizerWeightNames,
  saveToMemory, trainSteps, unitMeansOfStep, weightValues,
} from "./save-fixtures.js";

const data = loadDigits();

beforeAll(async () => {
  expect(await tf.setBackend("cpu")).toBe(true);
});

describe("the baseline: TF.js's own optimizers", () => {
  test("tf.train.adam continues after a reload within float32 rounding (TF.js recomputes β^t as pow on load)", async () => {
    const batches = batchesOf(data, "mlp");
    const uninterrupted = buildModel("mlp");
    compile(uninterrupted, tf.train.adam(1e-2));
    await trainSteps(uninterrupted, batches, 0, 10);
    const saved = buildModel("mlp");
    compile(saved, tf.train.adam(1e-2));
    await trainSteps(saved, batches, 0, 5);
    const artifacts = await saveToMemory(saved);
    expect(savedOptimizerConfig(artifacts)).toEqual({ class_name: "Adam", config: { learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } });
    // iterations first, then every variable's m, then every variable's v
    const names = saved.getWeights().map((w) => (w as tf.Variable).name);
    expect(savedOptimizerWeightNames(artifacts)).toEqual(["iter", ...names.map((n) => `${n}/m`), ...names.map((n) => `${n}/v`)]);
    const loaded = await loadFromMemory(artifacts);
    await trainSteps(loaded, batches, 5, 10);
    // not bit-identical: the live run multiplies β^t by β each step in float32, setWeights takes pow(β, t + 1)
    expect(maxAbsDiffs(weightValues(loaded), weightValues(uninterrupted))).toBeLessThan(1e-5);
  });

  test("withGradientCentralization: the wrapped built-in's class name is saved, so the reloaded optimizer is a plain tf.train.sgd without GC", async () => {
    const batches = batchesOf(data, "mlp");
    const model = buildModel("mlp");
    compile(model, withGradientCentralization(tf.train.sgd(0.1)));
    const shapes = model.getWeights().map((w) => w.shape);
    await trainSteps(model, batches, 0, 3);
    const before = weightValues(model);
    await trainSteps(model, batches, 3, 4);
    const centralized = unitMeansOfStep(before, weightValues(model), shapes);
    expect(centralized.unitMean).toBeLessThan(1e-6 * centralized.step); // GC on: Δw has zero mean per unit (up to float32 rounding)

    const artifacts = await saveToMemory(model);
    expect(savedOptimizerConfig(artifacts).class_name).toBe("SGD");
    const loaded = await loadFromMemory(artifacts);
    expect(loaded.optimizer.getClassName()).toBe("SGD");
    const reloaded = weightValues(loaded);
    await trainSteps(loaded, batches, 4, 5);
    const plain = unitMeansOfStep(reloaded, weightValues(loaded), shapes);
    expect(plain.unitMean).toBeGreaterThan(1e-3 * plain.step); // GC is gone: the step's unit means are of the order of the step
  });
});
