// Ranger = Lookahead(RAdam(betas [0.95, 0.999], eps 1e-5), k 6, alpha 0.5), gc "gradient" by
// default, against the float64 Lookahead reference around the RAdam reference.
import { describe, expect, test } from "vitest";
import { Lookahead, RAdam, Ranger, type RangerOptions } from "../../src/index.js";
import type { Param } from "../../src/index.js";
import { LookaheadReference } from "../lookahead-oracle.js";
import { RAdamReference, type RAdamSettings } from "../optim-oracle.js";
import { bits, gradientSequence, makeModel, referenceParams, resumeBits, SHAPES, trajectoryError } from "../optim-fixtures.js";

const RANGER_DEFAULTS: RAdamSettings = { lr: 1e-3, betas: [0.95, 0.999], eps: 1e-5, weightDecay: 0, gc: "gradient", convOnly: false, layout: "out-first" };

const VARIANTS: [string, RangerOptions, { k: number; alpha: number }][] = [
  ["defaults", {}, { k: 6, alpha: 0.5 }],
  ["lr 0.01, L2", { lr: 0.01, weightDecay: 0.02 }, { k: 6, alpha: 0.5 }],
  ['gc "update", out-last, k 4, alpha 0.7', { lr: 0.01, gc: "update", layout: "out-last", k: 4, alpha: 0.7 }, { k: 4, alpha: 0.7 }],
  ["gc off, betas [0.9, 0.99], eps 1e-8", { lr: 0.01, gc: false, betas: [0.9, 0.99], eps: 1e-8 }, { k: 6, alpha: 0.5 }],
  ["convOnly", { lr: 0.01, convOnly: true }, { k: 6, alpha: 0.5 }],
];

describe("24 steps against the float64 reference (RAdam rectified from t = 6 with β2 0.999)", () => {
  test.each(VARIANTS)("%s", (_, options, { k, alpha }) => {
    const model = makeModel(61);
    const opt = new Ranger(model.params, options);
    const { k: _k, alpha: _alpha, ...radam } = options;
    const settings = { ...RANGER_DEFAULTS, ...radam } as RAdamSettings;
    const reference = new LookaheadReference(new RAdamReference(referenceParams(model)), k, alpha);
    for (const grads of gradientSequence(24, 61)) {
      model.setGrads(grads);
      opt.step();
      reference.step(grads, SHAPES.map(() => settings));
    }
    expect(trajectoryError(model.values(), reference.params, 24)).toBeLessThanOrEqual(1);
    const slow = opt.stateDict().slow as Float32Array[];
    expect(trajectoryError(slow, reference.slow.map((value, i) => ({ value, shape: SHAPES[i] })), 24)).toBeLessThanOrEqual(1);
    opt.dispose();
    model.dispose();
  });

  test("the comparison can fail: RAdam's defaults (betas [0.9, 0.999], eps 1e-8) instead of Ranger's are outside the tolerance", () => {
    const model = makeModel(62);
    const opt = new Ranger(model.params, { lr: 0.01 });
    const reference = new LookaheadReference(new RAdamReference(referenceParams(model)), 6, 0.5);
    for (const grads of gradientSequence(24, 62)) {
      model.setGrads(grads);
      opt.step();
      reference.step(grads, SHAPES.map(() => ({ ...RANGER_DEFAULTS, lr: 0.01, betas: [0.9, 0.999] as [number, number], eps: 1e-8 })));
    }
    expect(trajectoryError(model.values(), reference.params, 24)).toBeGreaterThan(10);
    opt.dispose();
    model.dispose();
  });
});

test("Ranger is Lookahead(RAdam(betas [0.95, 0.999], eps 1e-5), k 6, alpha 0.5): the same bits", () => {
  const a = makeModel(63);
  const b = makeModel(63);
  const ranger = new Ranger(a.params, { lr: 0.01, weightDecay: 0.01 });
  const composed = new Lookahead(new RAdam(b.params, { lr: 0.01, weightDecay: 0.01, betas: [0.95, 0.999], eps: 1e-5 }), { k: 6, alpha: 0.5 });
  for (const g of gradientSequence(13, 63)) {
    a.setGrads(g);
    b.setGrads(g);
    ranger.step();
    composed.step();
  }
  expect(bits(a.values())).toEqual(bits(b.values()));
  const dict = ranger.stateDict();
  expect(dict).toMatchObject({ optimizer: "Ranger", k: 6, alpha: 0.5, step: 13 });
  expect(dict.inner.paramGroups[0]).toMatchObject({ lr: 0.01, betas: [0.95, 0.999], eps: 1e-5, weightDecay: 0.01, gc: "gradient", convOnly: false, layout: "out-first" });
  ranger.dispose();
  composed.dispose();
  a.dispose();
  b.dispose();
});

test("resuming Ranger from stateDict() mid-cycle is bit-identical, also through JSON; a Lookahead checkpoint is refused", () => {
  const make = (p: Param[]) => new Ranger(p, { lr: 0.01, gc: "update" });
  const grads = gradientSequence(20, 64);
  const model = makeModel(64);
  const opt = make(model.params);
  let checkpoint: { weights: Float32Array[]; plain: unknown; json: string } | undefined;
  grads.forEach((g, t) => {
    if (t === 9) checkpoint = { weights: model.values(), plain: opt.stateDict(), json: JSON.stringify(opt.stateDict({ json: true })) };
    model.setGrads(g);
    opt.step();
  });
  const uninterrupted = bits(model.values());
  expect(resumeBits(make, checkpoint!.weights, checkpoint!.plain, grads.slice(9))).toEqual(uninterrupted);
  expect(resumeBits(make, checkpoint!.weights, JSON.parse(checkpoint!.json), grads.slice(9))).toEqual(uninterrupted);
  expect(resumeBits(make, checkpoint!.weights, undefined, grads.slice(9))).not.toEqual(uninterrupted);
  const other = new Lookahead(new RAdam(model.params));
  expect(() => opt.loadStateDict(other.stateDict() as never)).toThrow(/^Ranger\.loadStateDict: state\.optimizer is "Lookahead", expected "Ranger"/);
  other.dispose();
  opt.dispose();
  model.dispose();
});

test("bad options name new Ranger and the option", () => {
  const model = makeModel(65);
  const cases: [() => unknown, ErrorConstructor, RegExp][] = [
    [() => new Ranger(model.params, { k: 0 }), RangeError, /^new Ranger: options\.k must be an integer ≥ 1, got 0/],
    [() => new Ranger(model.params, { alpha: 2 }), RangeError, /^new Ranger: options\.alpha must be in \[0, 1\], got 2/],
    [() => new Ranger(model.params, { betas: [0.95, 1] }), RangeError, /^new Ranger: options\.betas\[1\] must be in \[0, 1\)/],
    [() => new Ranger(model.params, { eps: 0 }), RangeError, /^new Ranger: options\.eps must be a finite number > 0/],
    [() => new Ranger(model.params, { amsgrad: true } as never), TypeError, /^new Ranger: options\.amsgrad is not an option of Ranger/],
    [() => new Ranger(model.params, 5 as never), TypeError, /^new Ranger: options must be an object/],
    [() => new Ranger([], {}), RangeError, /^new Ranger: params is empty/],
  ];
  for (const [call, type, message] of cases) {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  }
  model.dispose();
});
