// tests/browser-executable.ts: the packaged Chromium runs here even where a system Chromium would be
// chosen (so every run checks the fallback a fresh machine uses), and a bad CHROMIUM_PATH is refused.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { expect, test } from "vitest";
import { CHROMIUM_ARGS, describeChromium, locateChromium, packagedChromium } from "./browser-executable.js";

const packagedVersion = (JSON.parse(readFileSync(new URL("../node_modules/@sparticuz/chromium/package.json", import.meta.url), "utf8")) as { version: string }).version;

// @sparticuz/chromium ships a linux-x64 binary only; elsewhere the browser tests need a system Chromium or CHROMIUM_PATH.
const packagedRunsHere = process.platform === "linux" && process.arch === "x64";

test.skipIf(!packagedRunsHere)("the Chromium inside @sparticuz/chromium unpacks, reports its version and runs a page with WebAssembly SIMD", async () => {
  const packaged = await packagedChromium();
  console.log(describeChromium(packaged));
  expect(packaged.source).toBe("@sparticuz/chromium");
  expect(packaged.path).toContain(join("node_modules/.cache/gc-chromium", packagedVersion));
  // The package's major version is the Chromium major it ships.
  expect(packaged.version).toMatch(new RegExp(`^Chromium ${packagedVersion.split(".")[0]}\\.`));
  const profile = mkdtempSync(join(tmpdir(), "gc-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: packaged.path, headless: true, args: [...CHROMIUM_ARGS] });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.setContent("<p>ok</p>");
    // A module with one v128 function (i32x4.splat): SIMD is what the default build needs.
    const simd = await page.evaluate(() => WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 17, 11])));
    expect({ text: await page.textContent("p"), simd }).toEqual({ text: "ok", simd: true });
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test("CHROMIUM_PATH must name an executable file", async () => {
  await expect(locateChromium("/dev/null")).rejects.toThrow("CHROMIUM_PATH=/dev/null is not an executable file");
  await expect(locateChromium("/nonexistent/chromium")).rejects.toThrow("CHROMIUM_PATH=/nonexistent/chromium is not an executable file");
});
