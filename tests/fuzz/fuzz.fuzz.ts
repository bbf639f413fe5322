// `npm run fuzz`: 10⁵ random centralize cases, 10⁴ random optimizer configurations and every
// hostile input, per kernel build; prints cases, failures and memory at start and end, and fails
// when anything failed. FUZZ_SCALE multiplies the random case counts (e.g. 0.1 for a quick run).
import { expect, test } from "vitest";
import { backend } from "../../src/index.js";
import { describeMemory, fuzzCentralize, fuzzHostile, fuzzOptimizers, memoryFigures, printFamily } from "./report.js";

const scale = Number(process.env.FUZZ_SCALE ?? 1);

test("fuzz", () => {
  const start = memoryFigures();
  console.log(`[${backend()}] start: ${describeMemory(start)}`);
  const centralize = fuzzCentralize(Math.round(1e5 * scale));
  printFamily("centralize vs the float64 oracle", centralize);
  const optimizers = fuzzOptimizers(Math.round(1e4 * scale));
  printFamily("optimizers vs tests/optim-oracle.ts (README bounds, resume bit-identity)", optimizers);
  console.log(
    `  outside the bound's condition (lr·wd past 2, or past eps for Adam's L2): ${optimizers.unstableOver.length} exceeded it` +
      (optimizers.unstableOver.length ? `:\n    ${optimizers.unstableOver.slice(0, 10).join("\n    ")}` : ""),
  );
  console.log(
    `  Lion, a sign flip on a c within rounding of 0 (a 2·lr error no rounding bound covers): ${optimizers.signOver.length} exceeded it` +
      (optimizers.signOver.length ? `:\n    ${optimizers.signOver.slice(0, 10).join("\n    ")}` : ""),
  );
  console.log(`  the previous bound 2·T·u·(|w| + max|w|) was exceeded by ${optimizers.previousOver} configurations, worst ${optimizers.previousWorst.toFixed(1)}×`);
  const hostile = fuzzHostile();
  printFamily("hostile inputs (named error, no byte changed, module works after)", hostile, 400);
  const byBranch: Record<string, { cases: number; failures: number }> = {};
  for (const r of hostile.results) {
    const key = r.needs ?? "none";
    byBranch[key] ??= { cases: 0, failures: 0 };
    byBranch[key].cases++;
    if (!r.ok) byBranch[key].failures++;
  }
  console.log(`  by the branch whose fixes they needed: ${Object.entries(byBranch).map(([k, v]) => `${k}: ${v.failures} of ${v.cases} failed`).join("; ")}`);
  const open = hostile.results.filter((r) => r.open);
  console.log(`  open findings (kept out of npm test): ${open.filter((r) => !r.ok).length} of ${open.length} still fail${open.length ? `: ${[...new Set(open.map((r) => r.open))].join("; ")}` : ""}`);
  const end = memoryFigures();
  console.log(`[${backend()}] end: ${describeMemory(end)}`);
  expect(centralize.failures.length + optimizers.failures.length + hostile.failures.length).toBe(0);
});
