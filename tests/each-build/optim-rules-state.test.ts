// Checkpoints of the newer rules: resuming from stateDict() (plain and JSON) steps bit-identically;
// the checkpoint holds torch's state (names in camelCase) with the float64 reference's values.
import { expect, test } from "vitest";
import { runtime } from "../../src/runtime.js";
import { gradientSequence, makeModel, referenceParams, resumeFromMidway, SHAPES, trajectoryError } from "../optim-fixtures.js";
import { NAdamReference } from "../optim-oracle.js";
import { RULES, settingsOf } from "../optim-rules.js";

/** The state each rule keeps (with its `full` options), as torch.optim names it, in camelCase. */
const STATE_NAMES: Record<string, string[]> = {
  RAdam: ["expAvg", "expAvgSq"],
  NAdam: ["expAvg", "expAvgSq", "muProduct"],
  Adamax: ["expAvg", "expInf"],
  Adagrad: ["sum"],
  Adadelta: ["squareAvg", "accDelta"],
  RMSprop: ["squareAvg", "momentumBuffer", "gradAvg"],
  Lion: ["expAvg"],
};

const CASES = RULES.flatMap((rule) =>
  (["gradient", "update"] as const).flatMap((gc) =>
    (["out-first", "out-last"] as const).map((layout) => ({ rule, options: { ...rule.full, gc, layout }, label: `${rule.name}, gc ${gc}, ${layout}` })),
  ),
);

test.each(CASES)("$label: resuming from stateDict() steps bit-identically, also through JSON", ({ rule, options }) => {
  const make = (p: Parameters<typeof rule.make>[0]) => rule.make(p, options);
  const { uninterrupted, plain, json, fresh } = resumeFromMidway(make);
  expect(plain).toEqual(uninterrupted);
  expect(json).toEqual(uninterrupted);
  expect(fresh).not.toEqual(uninterrupted); // the state matters: a fresh optimizer differs
});

test.each(RULES)("$name's stateDict holds torch's state with the float64 reference's values", (rule) => {
  const model = makeModel(21);
  const reference = rule.reference(referenceParams(model)) as unknown as { state: Record<string, Float64Array>[]; step: (g: Float32Array[], s: never[]) => void };
  const opt = rule.make(model.params, rule.full);
  const settings = settingsOf(rule, rule.full);
  for (const g of gradientSequence(20, 21)) {
    model.setGrads(g);
    opt.step();
    reference.step(g, SHAPES.map(() => settings));
  }
  const { state, optimizer, paramGroups } = opt.stateDict() as { state: Record<string, unknown>[]; optimizer: string; paramGroups: object[] };
  expect(optimizer).toBe(rule.name);
  expect(paramGroups).toEqual([{ ...(settings as object), params: [0, 1, 2, 3, 4, 5, 6] }]);
  expect(state.map((s) => s.step)).toEqual(SHAPES.map(() => 20));
  for (const s of state) expect(Object.keys(s).sort()).toEqual(["step", ...STATE_NAMES[rule.name]].sort());
  for (const name of STATE_NAMES[rule.name]) {
    if (name === "muProduct") {
      const products = (reference as unknown as NAdamReference).muProduct;
      state.forEach((s, i) => expect(s.muProduct).toBe(products[i]));
      continue;
    }
    const expected = reference.state.map((buffers, i) => ({ value: buffers[name], shape: SHAPES[i] }));
    expect(trajectoryError(state.map((s) => s[name] as Float32Array), expected, 20)).toBeLessThanOrEqual(1);
  }
  opt.dispose();
  model.dispose();
});

test("NAdam's muProduct is checked on load and restored with the checkpoint", () => {
  const rule = RULES.find((r) => r.name === "NAdam")!;
  const model = makeModel(2);
  const opt = rule.make(model.params);
  model.setGrads(gradientSequence(1, 2)[0]);
  opt.step();
  const saved = opt.stateDict() as { state: Record<string, unknown>[] };
  expect(saved.state[0].muProduct).toBeCloseTo(0.9 * (1 - 0.5 * 0.96 ** 0.004), 15);
  const bad = { ...saved, state: saved.state.map((s, i) => (i === 2 ? { ...s, muProduct: "0.4" } : s)) };
  expect(() => opt.loadStateDict(bad as never)).toThrow(/NAdam\.loadStateDict: state\.state\[2\]\.muProduct must be a number/);
  const infinite = { ...saved, state: saved.state.map((s, i) => (i === 2 ? { ...s, muProduct: Infinity } : s)) };
  expect(() => opt.loadStateDict(infinite as never)).toThrow(RangeError);
  const other = rule.make(model.params);
  other.loadStateDict(saved as never);
  expect((other.stateDict() as { state: unknown[] }).state).toEqual(saved.state);
  opt.dispose();
  other.dispose();
  model.dispose();
});

test.each(RULES)("$name: steps allocate nothing (linear memory and its allocations unchanged over 30 steps); dispose frees the state", (rule) => {
  const { memory } = runtime("test");
  const model = makeModel(8);
  const before = memory.allocatedBytes;
  const opt = rule.make(model.params, rule.full);
  model.setGrads(gradientSequence(1, 8)[0]);
  opt.step();
  const afterOne = memory.allocatedBytes;
  const bytes = memory.byteLength;
  for (const gc of ["gradient", "update", false, "gradient"] as const) {
    (opt.paramGroups[0] as { gc: unknown }).gc = gc;
    for (let t = 0; t < 8; t++) opt.step();
  }
  expect(memory.allocatedBytes).toBe(afterOne);
  expect(memory.byteLength).toBe(bytes);
  opt.dispose();
  const block = (shape: readonly number[]) => Math.max(16, Math.ceil((4 * shape.reduce((x, y) => x * y, 1)) / 16) * 16);
  const buffers = STATE_NAMES[rule.name].filter((name) => name !== "muProduct").length;
  expect(afterOne - memory.allocatedBytes).toBe(SHAPES.reduce((n, shape) => n + buffers * block(shape), 0));
  expect(memory.allocatedBytes).toBe(before);
  model.dispose();
});
