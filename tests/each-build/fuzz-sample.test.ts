// A seeded sample of `npm run fuzz` (tests/fuzz/): random centralize cases against the float64
// oracle, random optimizer configurations against tests/optim-oracle.ts within the README's
// bounds (resumes bit-identical), and every hostile input but the open findings (each refused by
// name with no byte changed, the module working afterwards). The full run is `npm run fuzz`.
import { describe, expect, test } from "vitest";
import { fuzzCentralize, fuzzHostile, fuzzOptimizers } from "../fuzz/report.js";

const detail = (r: { failures: { detail: string }[] }) => r.failures.map((f) => f.detail).join("\n");

describe("fuzz sample", () => {
  test("300 random centralize cases match the float64 oracle", () => {
    const r = fuzzCentralize(300, 20260);
    expect(r.cases).toBe(300);
    expect(detail(r)).toBe("");
  });

  test("60 random optimizer configurations stay within the README's bounds; resumes are bit-identical", () => {
    const r = fuzzOptimizers(60, 7001);
    expect(detail(r)).toBe("");
    expect(r.unstableOver).toEqual([]);
    expect(r.signOver).toEqual([]);
  });

  test("every hostile input (but the open findings) is refused by name, changes nothing, and leaves the module working", () => {
    const r = fuzzHostile((c) => c.open === undefined);
    expect(r.cases).toBeGreaterThanOrEqual(600);
    expect(detail(r)).toBe("");
  });
});
