// Random centralize cases against the float64 oracle: shapes of rank 0–5 with odd and empty dims
// (and some wider than the 4096-column chunk), both layouts, convOnly, Tensor or Float32Array
// (or a view of a Tensor's data), centralize or centralizeAll over several entries, values with
// large common offsets and the odd NaN or ±Inf.
import { centralize, centralizeAll, type Layout, Tensor } from "../../src/index.js";
import { centralizeReference } from "../oracle.js";
import { Rng, withUnitAxis } from "./rng.js";

type Route = "array" | "tensor" | "view";

/** One tensor of a case. */
interface Entry {
  shape: number[];
  values: Float32Array;
  route: Route;
}

export interface CentralizeCase {
  seed: number;
  api: "centralize" | "centralizeAll";
  layout: Layout;
  convOnly: boolean;
  /** Pass the options object (false: none, the defaults; only with layout out-first and convOnly false). */
  entries: Entry[];
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function randomShape(rng: Rng): number[] {
  if (rng.chance(0.01)) return rng.pick([[2, 4100], [3, 4096], [1, 8200], [4100, 2], [2, 3, 4099]]);
  const shape = rng.shape(0, 5, rng.pick([3, 5, 9, 17, 33]), 0.04);
  while (size(shape) > 6000) shape[shape.indexOf(Math.max(...shape))] = 1;
  return shape;
}

function randomValues(rng: Rng, n: number): Float32Array {
  const values = rng.array(n, rng.pick([0, 0, 1, 1000, -3e4]), rng.pick([1e-3, 1, 50]));
  if (n > 0 && rng.chance(0.03)) values[rng.int(0, n - 1)] = rng.pick([NaN, Infinity, -Infinity]);
  return values;
}

/** Draws a case from `seed`. */
export function centralizeCase(seed: number): CentralizeCase {
  const rng = new Rng(seed);
  const api = rng.chance(0.7) ? "centralize" : "centralizeAll";
  const count = api === "centralize" ? 1 : rng.int(1, 5);
  const entries = Array.from({ length: count }, () => {
    const shape = randomShape(rng);
    return { shape, values: randomValues(rng, size(shape)), route: rng.pick<Route>(["array", "tensor", "view"]) };
  });
  const layout = withUnitAxis(rng.pick(["out-first", "out-last"] as const), seed);
  return { seed, api, layout, convOnly: rng.chance(0.2), entries };
}

/**
 * Runs a case; returns the worst |kernel − oracle| / (4u·max(1, max|x|)) over its entries (≤ 1
 * passes; Infinity when a NaN or a value disagrees in kind, or the call threw), with every Tensor
 * disposed; `error` is what the call threw.
 */
export function runCentralizeCase(c: CentralizeCase): { ratio: number; error?: unknown } {
  try {
    return { ratio: compare(c) };
  } catch (error) {
    return { ratio: Infinity, error };
  }
}

function compare(c: CentralizeCase): number {
  const tensors = c.entries.map((e) => (e.route === "array" ? undefined : Tensor.from(e.values, e.shape)));
  try {
    const options = { layout: c.layout, convOnly: c.convOnly };
    const operands = c.entries.map((e, i) => {
      const t = tensors[i];
      if (!t) return { grad: Float32Array.from(e.values), shape: e.shape };
      return e.route === "tensor" ? t : { grad: t.data, shape: e.shape };
    });
    if (c.api === "centralize") {
      const op = operands[0];
      if (op instanceof Tensor) centralize(op, options);
      else centralize(op.grad, op.shape, options);
    } else centralizeAll(operands, options);
    let worst = 0;
    c.entries.forEach((e, i) => {
      const op = operands[i];
      const actual = op instanceof Tensor ? op.data : tensors[i] ? tensors[i]!.data : op.grad;
      const expected = centralizeReference(e.values, e.shape, c.layout, c.convOnly);
      let scale = 1;
      for (const x of e.values) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
      const tolerance = 4 * 2 ** -24 * scale;
      for (let j = 0; j < actual.length; j++) {
        const a = actual[j];
        const b = expected[j];
        if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
        const ratio = Math.abs(a - b) / tolerance;
        worst = Math.max(worst, Number.isNaN(ratio) ? Infinity : ratio);
      }
    });
    return worst;
  } finally {
    for (const t of tensors) t?.dispose();
  }
}
