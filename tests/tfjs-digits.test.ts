// The digits job (npm start) against the built package: a short run of this package's Adam and of
// TF.js Adam wrapped by the adapter, from the same weights over the same batches. Two independent
// implementations of Adam + GC (out-first wasm kernels, out-last TF.js ops) must agree.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";

const ROOT = new URL("../", import.meta.url);
const out = mkdtempSync(join(tmpdir(), "gc-digits-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

test("npm start's job: the table, GC's effect, TF.js + adapter tracking the package's Adam, report.html", async () => {
  if (!existsSync(new URL("dist/index.js", ROOT))) {
    throw new Error("dist/index.js is missing: the job runs the built package; run `npm run build` (npm test does) first");
  }
  const report = join(out, "report.html");
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ["examples/digits/main.js", "--epochs", "2", "--seeds", "2", "--optimizer", "adam,tfjs-adam", "--out", report],
    { cwd: ROOT, maxBuffer: 1 << 24 },
  );
  // TF.js's banner suggesting @tensorflow/tfjs-node is held back (it used to land inside the progress bar).
  expect(stdout + stderr).not.toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
  // One row per setting, with finite numbers.
  for (const label of ["MLP + Adam", "MLP + TF.js Adam + adapter"]) {
    for (const gc of ["off", "on"]) {
      const row = stdout.split("\n").find((line) => new RegExp(`^${label.replace(/[.+]/g, "\\$&")}\\s+${gc}\\s`).test(line));
      expect(row, `${label} GC ${gc} row`).toBeDefined();
      // "<label>  <gc>  loss ± std  accuracy ± std  …"
      const [loss, accuracy] = [...row!.slice(label.length).matchAll(/([\d.]+) ± /g)].map((m) => Number(m[1]));
      expect(loss).toBeGreaterThan(0);
      expect(loss).toBeLessThan(1.5); // ln 10 ≈ 2.3 is chance
      expect(accuracy).toBeGreaterThan(70);
    }
  }
  // Per-layer gradient statistics: GC takes each weight's unit means to ~0.
  const dense1 = stdout.split("\n").find((line) => line.startsWith("mlp dense1.weight"));
  const [, after] = /([\d.e+-]+) → ([\d.e+-]+)/.exec(dense1!)!.slice(1).map(Number);
  expect(after).toBeLessThan(1e-7);
  // Same weights, same batches: the two implementations end within 0.1% of each other.
  const agreement = [...stdout.matchAll(/differ by at most ([\d.]+)%/g)].map((m) => Number(m[1]));
  expect(agreement).toHaveLength(2);
  for (const percent of agreement) expect(percent).toBeLessThan(0.1);
  const html = readFileSync(report, "utf8");
  // loss and accuracy per optimizer, one histogram, and for the package's Adam its per-unit weight means and gradient
  expect(html.match(/<svg /g)?.length).toBe(7);
  // a line per curve (2 optimizers × 2 charts × GC off/on), per unit of dense1 in 3 panels (no GC, "gradient", "update"), per gradient series (4)
  expect(html.match(/<polyline /g)?.length).toBe(8 + 3 * 64 + 4);
  expect(html).not.toMatch(/<script/);
});
