// README's TF.js optimizers example, run as written against the built package (dist/): it must
// exit cleanly and print a loss that went down.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { expect, test } from "vitest";

const ROOT = new URL("../../", import.meta.url);

test("README's TF.js optimizers example runs and its loss goes down", async () => {
  if (!existsSync(new URL("dist/tfjs.js", ROOT))) throw new Error("dist/tfjs.js is missing: run `npm run build` (npm test does) first");
  const readme = readFileSync(new URL("README.md", ROOT), "utf8");
  const marker = readme.indexOf("<!-- tfjs-example:");
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(marker));
  expect(marker).toBeGreaterThan(0);
  // inside the package, so that "gradient-centralization/tfjs" resolves to this package (a self-reference)
  const dir = new URL("build/readme-tfjs/", ROOT);
  mkdirSync(dir, { recursive: true });
  const file = new URL("example.mjs", dir);
  writeFileSync(file, block![1]);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file.pathname], { cwd: ROOT });
    const losses = stdout.trim().split("\n").pop()!.split(" → ").map(Number);
    expect(losses).toHaveLength(5);
    expect(losses[4]).toBeLessThan(losses[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
