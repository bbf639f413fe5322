// Allocation cost with many live tensors and a fragmented free list (issue 10, item 15): one
// `new Tensor` + `dispose()` pair per call, in µs. Also runnable alone:
// `node bench/allocation-workloads.mjs` (after npm run build).
import { timeGrouped } from "./harness.mjs";

/** Rows { name, us } for the allocation workloads on one instance of the package. */
export async function runAllocationBench({ pkgs }, options) {
  const { Tensor } = pkgs.simd;
  const held = [];
  const cases = [];
  // 10⁵ live blocks of mixed sizes, then one allocate + free of a size in the middle of them.
  const live = [];
  for (let i = 0; i < 100_000; i++) live.push(new Tensor([1 + (i % 37)]));
  cases.push({ name: "new Tensor([24]) + dispose(), 10⁵ live tensors", run: () => new Tensor([24]).dispose() });
  // 25k free holes of 64 bytes (the old first-fit scanned all of them for anything larger).
  const holes = [];
  for (let i = 0; i < 50_000; i++) holes.push(new Tensor([16]));
  holes.forEach((t, i) => (i % 2 === 0 ? t.dispose() : held.push(t)));
  cases.push({ name: "new Tensor([64]) + dispose(), 25k free holes", run: () => new Tensor([64]).dispose() });
  // 4,000 live [64, 64] tensors (the issue's ~800 µs case).
  for (let i = 0; i < 4000; i++) held.push(new Tensor([64, 64]));
  cases.push({ name: "new Tensor([64, 64]) + dispose(), 4,000 live [64, 64]", run: () => new Tensor([64, 64]).dispose() });
  const medians = await timeGrouped(cases, options);
  live.forEach((t) => t.dispose());
  held.forEach((t) => t.dispose());
  return cases.map(({ name }) => ({ name, us: medians.get(name) * 1000 }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const simd = await import("../dist/index.js");
  await simd.init();
  for (const { name, us } of await runAllocationBench({ pkgs: { simd } }, { rounds: 5, batchMs: 5 })) {
    console.log(`${name}: ${us.toFixed(2)} µs`);
  }
}
