// With gc: false each train.* optimizer follows the tf.train optimizer of the same name over
// model.fit on real models (digits MLP and conv net), on the cpu and wasm backends.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, test } from "vitest";
import { init, train } from "../../src/tfjs/index.js";
import { fitWeights, type ModelKind, worstRelative } from "./fixtures.js";

const STEPS = 24;
const TOLERANCE = 1e-5;

const cases: [string, () => tf.Optimizer, () => tf.Optimizer][] = [
  ["sgd", () => tf.train.sgd(0.1), () => train.sgd(0.1, { gc: false })],
  ["momentum", () => tf.train.momentum(0.05, 0.9), () => train.momentum(0.05, 0.9, false, { gc: false })],
  ["momentum (Nesterov)", () => tf.train.momentum(0.05, 0.9, true), () => train.momentum(0.05, 0.9, true, { gc: false })],
  ["adam", () => tf.train.adam(0.01), () => train.adam(0.01, undefined, undefined, undefined, { gc: false })],
  ["adam (defaults)", () => tf.train.adam(), () => train.adam(undefined, undefined, undefined, undefined, { gc: false })],
];

describe.each(["cpu", "wasm"])("%s backend", (backend) => {
  beforeAll(async () => {
    await init();
    expect(await tf.setBackend(backend)).toBe(true);
  });
  // The wasm backend cannot train Conv2D (no Conv2DBackpropFilter kernel): the conv net there is Conv3D's.
  const kinds: ModelKind[] = backend === "cpu" ? ["mlp", "conv2d", "conv3d"] : ["mlp", "conv3d"];
  for (const kind of kinds) {
    test.each(cases)(`%s on the ${kind} follows tf.train's`, async (_name, reference, ours) => {
      const expected = await fitWeights(kind, reference(), STEPS);
      const optimizer = ours();
      const got = await fitWeights(kind, optimizer, STEPS);
      expect((optimizer as unknown as { engineKind: string }).engineKind).toBe("kernels");
      const worst = worstRelative(got, expected);
      console.log(`${backend} ${kind} ${_name}: worst relative ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(TOLERANCE);
      optimizer.dispose();
    });
  }
});
