// The cost of threads on for a small call (issue 13: ≤ 2% on one [10, 64] centralize). One call
// takes ~0.5 µs, nearly all of it JavaScript, and two instances of the same bundle differ by up
// to ±10% on it (each has its own JIT code): one instance against one other measures the
// instances, not the threads. So each side is INSTANCES fresh instances, imported in rotating
// order, each making one large call first (split where threads are on) as a program would, then
// timed interleaved; the row is the median instance of each side. A third side, more instances of
// the SIMD build, measures what that method still cannot resolve. (With 32 instances per side every
// call ran slower, 0.5–0.9 µs, and the sides further apart: bench/experiments.md.)
// Also runnable alone: `node bench/per-call.mjs` (after npm run build).
import { median, timeInterleaved } from "./harness.mjs";

export const INSTANCES = 8;
const SHAPE = [10, 64];
const SIDES = [
  { side: "simd", options: {} },
  { side: "threads 2", options: { threads: 2 } },
  { side: "simd, other instances", options: {} },
];

/**
 * Times one [10, 64] `centralize(tensor)` on INSTANCES new instances per side. Returns
 * { side → per-instance median ms per call } (sides: "simd", "threads 2", "simd, other instances"),
 * or undefined when `init({ threads: 2 })` falls back here.
 */
export async function runPerCallBench(options) {
  const values = Float32Array.from({ length: SHAPE[0] * SHAPE[1] }, (_, i) => Math.sin(i));
  const largeValues = Float32Array.from({ length: 1 << 20 }, (_, j) => Math.cos(j));
  const cases = [];
  const instances = [];
  try {
    for (let i = 0; i < INSTANCES; i++) {
      for (let k = 0; k < SIDES.length; k++) {
        const { side, options: init } = SIDES[(i + k) % SIDES.length];
        const pkg = await import(`../dist/index.js?instance=per-call-${side.replace(/\W+/g, "-")}-${i}`);
        const instance = { pkg, tensor: undefined };
        instances.push(instance);
        await pkg.init(init);
        if (init.threads && pkg.backend() !== "simd-threads") return undefined;
        // a large call first, as in a program (split across the threads where they are on)
        const large = pkg.Tensor.from(largeValues, [1024, 1024]);
        pkg.centralize(large);
        large.dispose();
        const tensor = (instance.tensor = pkg.Tensor.from(values, SHAPE));
        cases.push({ name: `${side} #${i}`, side, run: () => pkg.centralize(tensor, { layout: "out-first" }) });
      }
    }
    const times = await timeInterleaved(cases, options);
    return new Map(SIDES.map(({ side }) => [side, cases.filter((c) => c.side === side).map((c) => times.get(c.name))]));
  } finally {
    // every instance started, also when one fell back: its workers would keep the process alive
    for (const { pkg, tensor } of instances) {
      tensor?.dispose();
      pkg.shutdown();
    }
  }
}

/** The ratio of the sides' median instances, `side` ÷ `base`. */
export const perCallRatio = (sides, side, base) => median(sides.get(side)) / median(sides.get(base));

if (import.meta.url === `file://${process.argv[1]}`) {
  const sides = await runPerCallBench({ rounds: 21, batchMs: 20 });
  if (!sides) throw new Error("init({ threads: 2 }) fell back: no workers or shared memory here");
  for (const [side, ms] of sides) console.log(`${side}: ${ms.map((t) => (t * 1e6).toFixed(0)).join(" ")} ns`);
  console.log(`threads on ÷ off ${perCallRatio(sides, "threads 2", "simd").toFixed(3)}; other SIMD instances ÷ the first ${perCallRatio(sides, "simd, other instances", "simd").toFixed(3)}`);
}
