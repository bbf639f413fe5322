// Every optimizer rule over all 62 ResNet-18 parameters (11.7M values), gc off and gc "gradient"
// out-first, and gc "gradient" out-last (the TF.js layout), against the memory limit for the
// buffers that rule touches (w, g and its state): one SIMD pass reading each buffer and writing
// all but g. One rule at a time (its own Tensors, disposed before the next), so linear memory
// holds one rule's state. A step must not allocate: the size of linear memory is checked after
// the timed steps.
import { resnet18Parameters } from "../examples/resnet18.js";
import { timeGrouped } from "./harness.mjs";
import { seededValues as values } from "./peers.mjs";

const product = (shape) => shape.reduce((a, b) => a * b, 1);

/** The parameters of `shapes` as Tensors of `pkg`, with the same seeded values in either layout. */
const parameters = (pkg, shapes) =>
  shapes.map((shape, i) => ({
    value: pkg.Tensor.from(values(product(shape), i + 1, 0.1), shape),
    grad: pkg.Tensor.from(values(product(shape), i + 101, 0.01), shape),
  }));

/** [label, class name, options, state buffers] for every rule. */
const RULES = [
  ["SGD momentum", "SGD", { lr: 1e-2, momentum: 0.9 }, 1],
  ["Adam", "Adam", { lr: 1e-3 }, 2],
  ["AdamW", "AdamW", { lr: 1e-3 }, 2],
  ["RAdam", "RAdam", {}, 2],
  ["NAdam", "NAdam", {}, 2],
  ["Adamax", "Adamax", {}, 2],
  ["Adagrad", "Adagrad", {}, 1],
  ["Adadelta", "Adadelta", {}, 2],
  ["RMSprop", "RMSprop", {}, 1],
  ["RMSprop centered, momentum", "RMSprop", { centered: true, momentum: 0.9 }, 3],
  ["Lion", "Lion", {}, 1],
];

/** The limit pass over w, g and `state` buffers of every parameter (limits.wasm has 1, 2 and 3). */
function limitCase(limits, shapes, state) {
  const ptrs = shapes.map((s) => Array.from({ length: 2 + state }, () => limits.alloc(product(s))));
  const pass = [null, limits.exports.pass3, limits.exports.adamPass, limits.exports.pass5][state];
  return { name: `limit: SIMD pass over ${2 + state} buffers`, run: () => ptrs.forEach((p, i) => pass(...p, product(shapes[i]), 1)) };
}

/**
 * Runs every rule; returns [{ rule, buffers, off, gc, last, limit, grew }] (ms per step; last: GC
 * "gradient" in the out-last layout; grew: linear memory grew while stepping).
 */
export async function runRuleBench({ pkgs, limits, memoryBytes }, options) {
  const pkg = pkgs.simd;
  const shapes = resnet18Parameters("out-first").map((p) => p.shape);
  const lastShapes = resnet18Parameters("out-last").map((p) => p.shape);
  const limitCases = new Map([1, 2, 3].map((state) => [state, limitCase(limits, shapes, state)]));
  const rows = [];
  for (const [rule, kind, ruleOptions, state] of RULES) {
    const params = parameters(pkg, shapes);
    const opt = new pkg[kind](params, { ...ruleOptions, gc: false });
    const step = (gc) => () => {
      opt.paramGroups[0].gc = gc;
      opt.step();
    };
    // The same values in the TF.js layout (dense [in, out], conv [kh, kw, in, out]): GC over column units.
    const lastParams = parameters(pkg, lastShapes);
    const lastOpt = new pkg[kind](lastParams, { ...ruleOptions, gc: "gradient", layout: "out-last" });
    const limit = limitCases.get(state);
    const cases = [{ name: "off", run: step(false) }, { name: "gc", run: step("gradient") }, { name: "last", run: () => lastOpt.step() }, limit];
    opt.step(); // makes the state buffers
    lastOpt.step();
    const before = memoryBytes();
    const times = await timeGrouped(cases, options);
    const grew = memoryBytes() !== before;
    opt.dispose();
    lastOpt.dispose();
    for (const p of [...params, ...lastParams]) p.value.dispose(), p.grad.dispose();
    rows.push({ rule, buffers: 2 + state, off: times.get("off"), gc: times.get("gc"), last: times.get("last"), limit: times.get(limit.name), grew });
  }
  return rows;
}
