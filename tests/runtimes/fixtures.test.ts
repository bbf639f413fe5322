// fixtures.json is what the float64 oracle computes for the suite's inputs, nothing else.
// Regenerate it with: UPDATE_FIXTURES=1 npx vitest run --project runtimes tests/runtimes/fixtures.test.ts
import { readFileSync, writeFileSync } from "node:fs";
import { expect, test } from "vitest";
import { buildFixtures } from "./fixtures.js";

const file = new URL("./fixtures.json", import.meta.url);

test("the stored fixtures equal the oracle's values for the seeded inputs", () => {
  const fresh = JSON.parse(JSON.stringify(buildFixtures()));
  if (process.env.UPDATE_FIXTURES === "1") writeFileSync(file, `${JSON.stringify(fresh)}\n`);
  expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(fresh);
});

test("fixture inputs are float32 values (a runtime reads them back exactly)", () => {
  const { centralize } = JSON.parse(readFileSync(file, "utf8")) as ReturnType<typeof buildFixtures>;
  for (const c of centralize) expect(Array.from(Float32Array.from(c.input)), c.name).toEqual(c.input);
});
