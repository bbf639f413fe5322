// Optimizers used before init(): a TypeError telling the caller to initialize, nothing created.
import { expect, test } from "vitest";
import { Adam, AdamW, SGD } from "../src/index.js";

test("constructing an optimizer before init throws a TypeError naming the constructor", () => {
  const params = [{ value: new Float32Array(6), grad: new Float32Array(6), shape: [2, 3] }];
  expect(() => new SGD(params, { lr: 0.1 })).toThrow(/new SGD: gradient-centralization is not initialized/);
  expect(() => new Adam(params)).toThrow(TypeError);
  expect(() => new AdamW(params)).toThrow(/new AdamW: .*init/);
  expect(Array.from(params[0].value)).toEqual([0, 0, 0, 0, 0, 0]);
});
