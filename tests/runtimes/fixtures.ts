// The conformance suite's fixed vectors: seeded float32 inputs and what the float64 oracle
// (tests/oracle.ts) computes for them. Stored as fixtures.json so that every runtime checks the
// same numbers without TypeScript; fixtures.test.ts keeps the stored file equal to this.
import { AdamReference, type AdamSettings, type GcMode, SgdReference, type SgdSettings } from "../optim-oracle.js";
import { centralizeReference, type Layout, statsReference } from "../oracle.js";
import { randomArray } from "../random.js";

/** One `centralize` call: input, options and the oracle's result, within `tolerance` absolute. */
export interface CentralizeCase {
  name: string;
  shape: number[];
  layout: Layout;
  convOnly: boolean;
  input: number[];
  expected: number[];
  tolerance: number;
}

export interface Fixtures {
  /** How the fixtures were made (for a reader of the JSON). */
  about: string;
  centralize: CentralizeCase[];
  /** `centralizeAll` over a model's worth of gradients (mixed ranks), one layout. */
  centralizeAll: { layout: Layout; entries: { shape: number[]; input: number[]; expected: number[] }[]; tolerance: number };
  /** A tensor made before memory grows, centralized after. */
  growth: { shape: number[]; input: number[]; expected: number[]; growFloats: number; tolerance: number };
  /** `gradientStats` of one gradient (per-unit mean and std), before GC. */
  stats: { shape: number[]; layout: Layout; input: number[]; mean: number[]; std: number[]; tolerance: number };
  /** Optimizer trajectories: weights after `grads.length` steps, per the float64 torch.optim references. */
  optimizer: Trajectory[];
}

const float32 = (values: Float32Array) => Array.from(values);
const maxAbs = (values: Float32Array) => values.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
/** The unit tests' bound for float32 results of unit-scale data: a few ulps of the largest input. */
const tolerance = (input: Float32Array) => Math.max(1, maxAbs(input)) * 2 ** -22;
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function centralizeCase(
  name: string,
  shape: number[],
  layout: Layout,
  seed: number,
  { convOnly = false, offset = 0, bound }: { convOnly?: boolean; offset?: number; bound?: number } = {},
): CentralizeCase {
  const input = randomArray(size(shape), seed, offset);
  const expected = Array.from(centralizeReference(input, shape, layout, convOnly));
  return { name, shape, layout, convOnly, input: float32(input), expected, tolerance: bound ?? tolerance(input) };
}

/** `new <optimizer>(params, options)`, `grads.length` steps; `expected` within rtol·|x| + atol. */
export interface Trajectory {
  name: string;
  optimizer: "SGD" | "Adam" | "AdamW";
  options: Record<string, unknown>;
  params: { shape: number[]; value: number[] }[];
  /** grads[t][i]: parameter i's gradient at step t. */
  grads: number[][][];
  expected: number[][];
  rtol: number;
  atol: number;
}

const TRAJECTORY_SHAPES = [[4, 3, 3, 3], [6, 5], [6]];
const TRAJECTORY_STEPS = 5;

/**
 * A few optimizer steps on a conv kernel, a dense weight and a bias, run by the float64
 * reference. Tolerance as in tests/optim-fixtures.ts: 2·T·u relative to the weights' scale.
 */
function trajectory(name: string, optimizer: Trajectory["optimizer"], options: Record<string, unknown>, seed: number): Trajectory {
  const values = TRAJECTORY_SHAPES.map((shape, i) => randomArray(size(shape), seed + i, 0, 0.5));
  const grads = Array.from({ length: TRAJECTORY_STEPS }, (_, t) =>
    TRAJECTORY_SHAPES.map((shape, i) => randomArray(size(shape), seed * 1000 + t * 31 + i, 0.3)),
  );
  const params = values.map((v, i) => ({ value: Float64Array.from(v), shape: TRAJECTORY_SHAPES[i] }));
  const gcSettings = { gc: "gradient" as GcMode, convOnly: false, layout: "out-first" as Layout };
  if (optimizer === "SGD") {
    const settings: SgdSettings = { lr: 0.01, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...gcSettings, ...options };
    const reference = new SgdReference(params);
    for (const g of grads) reference.step(g, params.map(() => settings));
  } else {
    const decoupled = optimizer === "AdamW";
    const settings: AdamSettings = {
      lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: decoupled ? 1e-2 : 0, amsgrad: false, decoupled, ...gcSettings, ...options,
    };
    const reference = new AdamReference(params);
    for (const g of grads) reference.step(g, params.map(() => settings));
  }
  const rtol = 2 * TRAJECTORY_STEPS * 2 ** -24;
  const scale = Math.max(...params.map((p) => p.value.reduce((m, x) => Math.max(m, Math.abs(x)), 0)));
  return {
    name,
    optimizer,
    options,
    params: values.map((v, i) => ({ shape: TRAJECTORY_SHAPES[i], value: float32(v) })),
    grads: grads.map((step) => step.map(float32)),
    expected: params.map((p) => Array.from(p.value)),
    rtol,
    atol: rtol * scale,
  };
}

export function buildFixtures(): Fixtures {
  const growthShape = [6, 10];
  const growthInput = randomArray(size(growthShape), 901);
  const statsShape = [3, 2, 5];
  const statsInput = randomArray(size(statsShape), 1001, 0.5, 2);
  const stats = statsReference(statsInput, statsShape, "out-last");
  const allShapes = [[8, 3, 3, 3], [8], [10, 8], [10], [4, 5, 2]];
  const allInputs = allShapes.map((shape, k) => randomArray(size(shape), 700 + k));
  return {
    about: "Generated by tests/runtimes/fixtures.ts from tests/oracle.ts (float64) and tests/random.ts (seeded); inputs are float32 values.",
    centralize: [
      centralizeCase("dense [5, 7] out-first", [5, 7], "out-first", 11),
      centralizeCase("dense [3, 13] out-first (4k+1 columns)", [3, 13], "out-first", 12),
      centralizeCase("conv [4, 3, 3, 3] out-first", [4, 3, 3, 3], "out-first", 13),
      centralizeCase("dense [7, 5] out-last", [7, 5], "out-last", 14),
      centralizeCase("conv [3, 3, 2, 6] out-last", [3, 3, 2, 6], "out-last", 15),
      centralizeCase("rows of 1000 + N(0, 1), [4, 33] out-first", [4, 33], "out-first", 16, { offset: 1000, bound: 5e-7 }),
      centralizeCase("columns of 1000 + N(0, 1), [33, 4] out-last", [33, 4], "out-last", 17, { offset: 1000, bound: 5e-7 }),
      centralizeCase("convOnly leaves dense [6, 4] unchanged", [6, 4], "out-first", 18, { convOnly: true }),
      centralizeCase("convOnly leaves rank-3 [2, 3, 5] unchanged", [2, 3, 5], "out-last", 19, { convOnly: true }),
      centralizeCase("convOnly centralizes conv [5, 2, 3, 3] out-first", [5, 2, 3, 3], "out-first", 20, { convOnly: true }),
      centralizeCase("convOnly centralizes conv [3, 3, 2, 5] out-last", [3, 3, 2, 5], "out-last", 21, { convOnly: true }),
      centralizeCase("rank 1 [9] unchanged", [9], "out-first", 22),
    ],
    centralizeAll: {
      layout: "out-first",
      entries: allShapes.map((shape, k) => ({
        shape,
        input: float32(allInputs[k]),
        expected: Array.from(centralizeReference(allInputs[k], shape, "out-first")),
      })),
      tolerance: Math.max(...allInputs.map(tolerance)),
    },
    growth: {
      shape: growthShape,
      input: float32(growthInput),
      expected: Array.from(centralizeReference(growthInput, growthShape)),
      growFloats: 4 * 1024 * 1024,
      tolerance: tolerance(growthInput),
    },
    stats: { shape: statsShape, layout: "out-last", input: float32(statsInput), mean: stats.mean, std: stats.std, tolerance: 1e-6 },
    optimizer: [
      trajectory("SGD momentum 0.9, nesterov, gc gradient, out-first", "SGD", { lr: 0.05, momentum: 0.9, nesterov: true, gc: "gradient", layout: "out-first" }, 41),
      trajectory("Adam, L2 0.01, gc gradient, out-last", "Adam", { lr: 0.01, weightDecay: 0.01, gc: "gradient", layout: "out-last" }, 42),
      trajectory("AdamW 0.1, gc update, out-first", "AdamW", { lr: 0.01, weightDecay: 0.1, gc: "update", layout: "out-first" }, 43),
    ],
  };
}
