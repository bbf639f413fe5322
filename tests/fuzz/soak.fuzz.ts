// `npm run soak`: 10⁶ create/centralize/dispose iterations and 10⁵ optimizer steps with
// create/dispose/stateDict round trips, per kernel build. Linear memory must end where it was after
// a warm-up (same size, same bytes allocated); the JavaScript heap in use after a full collection
// must not grow by more than 8 MiB (a leak of even 10 bytes an iteration would), and the process's
// RSS by more than 64 MiB (V8 keeps pages its heap grew into and returns them late: RSS was seen
// 44 MiB up at one reading and back down at the next, so it is printed per half but not bounded
// per half). SOAK_SCALE multiplies the iteration counts.
import { expect, test } from "vitest";
import { Adam, AdamW, backend, centralize, centralizeAll, gradientStats, SGD, Tensor } from "../../src/index.js";
import type { Param } from "../../src/index.js";
import { runtime } from "../../src/runtime.js";
import { Rng } from "./rng.js";

const scale = Number(process.env.SOAK_SCALE ?? 1);
const RSS_SLACK_MIB = 64;
const HEAP_SLACK_MIB = 8;

const mib = (n: number) => Math.round((n / 2 ** 20) * 100) / 100;
function figures() {
  (globalThis as { gc?: () => void }).gc?.();
  const { memory } = runtime("soak");
  const { rss, heapUsed } = process.memoryUsage();
  return { linear: memory.byteLength, allocated: memory.allocatedBytes, rss, heap: heapUsed };
}
const show = (f: ReturnType<typeof figures>) => `linear memory ${f.linear} bytes (${f.allocated} allocated), JS heap ${mib(f.heap)} MiB, RSS ${mib(f.rss)} MiB`;

const SHAPES = [[64], [16, 16], [32, 9], [8, 3, 3, 3], [7, 13], [1, 100], [0, 50], [5, 4, 2]];

/** One create/centralize/dispose iteration (Tensor or Float32Array route, both layouts, the odd stats call). */
function centralizeIteration(rng: Rng, i: number): void {
  const shape = SHAPES[i % SHAPES.length];
  const layout = i & 1 ? "out-last" : "out-first";
  const t = new Tensor(shape);
  t.data.fill(i % 7);
  if (i % 3 === 0) centralize(t.data, shape, { layout });
  else if (i % 3 === 1) centralize(t, { layout });
  else centralizeAll([t, { grad: new Float32Array(t.size).fill(1), shape }], { layout });
  if (i % 1000 === 0) gradientStats(t, { layout });
  if (t.size > 0 && shape.length > 1 && Math.abs(t.data[0]) > 1e-5) throw new Error(`iteration ${i}: not centralized`);
  t.dispose();
  void rng;
}

const OPTIMIZERS = [
  (p: Param[]) => new SGD(p, { lr: 0.01, momentum: 0.9 }),
  (p: Param[]) => new SGD(p, { lr: 0.01, momentum: 0.9, gc: "update", layout: "out-last" }),
  (p: Param[]) => new Adam(p, { lr: 1e-3 }),
  (p: Param[]) => new Adam(p, { lr: 1e-3, amsgrad: true, gc: "update" }),
  (p: Param[]) => new AdamW(p, { lr: 1e-3, gc: false }),
];

/** One episode: a model, an optimizer, `steps` steps, a checkpoint round trip into a new optimizer, more steps, all disposed. */
function optimizerEpisode(rng: Rng, e: number, steps: number): number {
  const shapes = [[16, 8], [16], [4, 3, 3, 3]];
  const params: Param[] = shapes.map((shape, i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return i === 1
      ? { value: rng.array(n, 0, 0.1), grad: new Float32Array(n), shape }
      : { value: Tensor.from(rng.array(n, 0, 0.1), shape), grad: new Tensor(shape) };
  });
  const make = OPTIMIZERS[e % OPTIMIZERS.length];
  let opt = make(params);
  let done = 0;
  const stepOnce = () => {
    for (const p of params) (p.grad instanceof Tensor ? p.grad.data : p.grad).set(rng.array(p.grad instanceof Tensor ? p.grad.size : p.grad.length, 0.1));
    opt.step();
    done++;
  };
  for (let s = 0; s < steps / 2; s++) stepOnce();
  const state = opt.stateDict({ json: e % 2 === 0 });
  opt.dispose();
  opt = make(params);
  opt.loadStateDict((e % 2 === 0 ? JSON.parse(JSON.stringify(state)) : state) as never);
  for (let s = steps / 2; s < steps; s++) stepOnce();
  opt.dispose();
  for (const p of params) {
    if (p.value instanceof Tensor) p.value.dispose();
    if (p.grad instanceof Tensor) p.grad.dispose();
  }
  return done;
}

test("soak", () => {
  const rng = new Rng(2026);
  const iterations = Math.round(1e6 * scale);
  const optimizerSteps = Math.round(1e5 * scale);
  const STEPS_PER_EPISODE = 10;
  // Warm-up: the staging block and the allocator's free list reach their working size.
  for (let i = 0; i < 1000; i++) centralizeIteration(rng, i);
  for (let e = 0; e < 10; e++) optimizerEpisode(rng, e, STEPS_PER_EPISODE);
  const start = figures();
  const gc = typeof (globalThis as { gc?: unknown }).gc === "function" ? "collected before each reading" : "not exposed";
  console.log(`[${backend()}] start (after warm-up; JS garbage ${gc}): ${show(start)}`);
  for (let i = 0; i < iterations / 2; i++) centralizeIteration(rng, i);
  const halfway = figures();
  for (let i = iterations / 2; i < iterations; i++) centralizeIteration(rng, i);
  const middle = figures();
  console.log(`[${backend()}] after ${iterations} create/centralize/dispose iterations: ${show(middle)} (halfway: RSS ${mib(halfway.rss)} MiB)`);
  let steps = 0;
  let episodes = 0;
  let optimizerHalfway = middle;
  while (steps < optimizerSteps) {
    steps += optimizerEpisode(rng, episodes, STEPS_PER_EPISODE);
    episodes++;
    if (episodes === Math.ceil(optimizerSteps / STEPS_PER_EPISODE / 2)) optimizerHalfway = figures();
  }
  const end = figures();
  console.log(`[${backend()}] after ${steps} optimizer steps in ${episodes} create/stateDict/loadStateDict/dispose episodes: ${show(end)} (halfway: RSS ${mib(optimizerHalfway.rss)} MiB)`);
  console.log(`[${backend()}] growth: linear memory ${end.linear - start.linear} bytes, allocated ${end.allocated - start.allocated} bytes, JS heap ${mib(end.heap - start.heap)} MiB, RSS ${mib(end.rss - start.rss)} MiB in all (${mib(middle.rss - halfway.rss)} and ${mib(end.rss - optimizerHalfway.rss)} MiB over the second halves) (allowed: 0, 0, ${HEAP_SLACK_MIB}, ${RSS_SLACK_MIB})`);
  expect(end.linear).toBe(start.linear);
  expect(end.allocated).toBe(start.allocated);
  expect(end.rss - start.rss).toBeLessThanOrEqual(RSS_SLACK_MIB * 2 ** 20);
  expect(end.heap - start.heap).toBeLessThanOrEqual(HEAP_SLACK_MIB * 2 ** 20);
});
