// The digits job (npm start) against the built package: a short run of this package's Adam, of the
// same MLP in TF.js with this package's train.adam and train.adamw, and with TF.js's tf.train.adam
// wrapped by the adapter, from the same weights over the same batches. The implementations of
// Adam + GC (out-first wasm kernels; train.adam's kernels over out-last TF.js variables; TF.js
// ops) must agree.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";

const ROOT = new URL("../", import.meta.url);
const out = mkdtempSync(join(tmpdir(), "gc-digits-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

test("npm start's job: the table, GC's effect, train.adam and tf.train.adam + adapter tracking the package's Adam, report.html", async () => {
  if (!existsSync(new URL("dist/index.js", ROOT))) {
    throw new Error("dist/index.js is missing: the job runs the built package; run `npm run build` (npm test does) first");
  }
  const report = join(out, "report.html");
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ["examples/digits/main.js", "--epochs", "2", "--seeds", "2", "--optimizer", "adam,tfjs-adam,tfjs-adamw,tf-adam", "--out", report],
    { cwd: ROOT, maxBuffer: 1 << 24 },
  );
  // TF.js's banner suggesting @tensorflow/tfjs-node is held back (it used to land inside the progress bar).
  expect(stdout + stderr).not.toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
  // One row per setting, with finite numbers.
  for (const label of ["MLP + Adam", "TF.js MLP + train.adam", "TF.js MLP + train.adamw", "TF.js MLP + tf.train.adam"]) {
    for (const gc of ["off", "on"]) {
      const row = stdout.split("\n").find((line) => new RegExp(`^${label.replace(/[.+]/g, "\\$&")}\\s+${gc}\\s`).test(line));
      expect(row, `${label} GC ${gc} row`).toBeDefined();
      // "<label>  <gc>  loss ± std  accuracy ± std  held-out loss ± std  ms/step  opt µs/step"
      const [loss, accuracy] = [...row!.slice(label.length).matchAll(/([\d.]+) ± /g)].map((m) => Number(m[1]));
      expect(loss).toBeGreaterThan(0);
      expect(loss).toBeLessThan(1.5); // ln 10 ≈ 2.3 is chance
      expect(accuracy).toBeGreaterThan(70);
      // each row reports its step time and its optimizer's time (positive, the optimizer's part of the step)
      const [stepMs, optimizerUs] = row!.trim().split(/\s+/).slice(-2).map(Number);
      expect(stepMs).toBeGreaterThan(0);
      expect(optimizerUs).toBeGreaterThan(0);
      expect(optimizerUs / 1000).toBeLessThan(stepMs);
    }
  }
  // Per-layer gradient statistics: GC takes each weight's unit means to ~0.
  const dense1 = stdout.split("\n").find((line) => line.startsWith("mlp dense1.weight"));
  const [, after] = /([\d.e+-]+) → ([\d.e+-]+)/.exec(dense1!)!.slice(1).map(Number);
  expect(after).toBeLessThan(1e-7);
  // Same weights, same batches: train.adam and tf.train.adam (+ adapter) end within 0.1% of the package's Adam, GC off and on.
  const agreement = [...stdout.matchAll(/^(.*) vs this package's Adam, GC (on|off): .*differ by at most ([\d.]+)%/gm)].map((m) => ({ what: `${m[1]} GC ${m[2]}`, percent: Number(m[3]) }));
  expect(agreement.map((a) => a.what).sort()).toEqual(["TF.js MLP + tf.train.adam GC off", "TF.js MLP + tf.train.adam GC on", "TF.js MLP + train.adam GC off", "TF.js MLP + train.adam GC on"]);
  for (const { what, percent } of agreement) expect(percent, what).toBeLessThan(0.1);
  const html = readFileSync(report, "utf8");
  // loss and accuracy per optimizer (4), one histogram, and for the package's Adam its per-unit weight means and gradient
  expect(html.match(/<svg /g)?.length).toBe(4 * 2 + 1 + 2);
  // a line per curve (4 optimizers × 2 charts × GC off/on), per unit of dense1 in 3 panels (no GC, "gradient", "update"), per gradient series (4)
  expect(html.match(/<polyline /g)?.length).toBe(4 * 2 * 2 + 3 * 64 + 4);
  expect(html).not.toMatch(/<script/);
});
