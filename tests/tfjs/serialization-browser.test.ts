// Save → load → continue through the browser's storage URLs (localstorage://, indexeddb://) in
// headless Chromium, with the built package (dist/tfjs.js) and TF.js's ES module bundle sharing one
// TF.js instance. The browser: see tests/browser-executable.ts.
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CHROMIUM_ARGS, chromiumExecutable, describeChromium } from "../browser-executable.js";
import { type BrowserRoundTrip, browserRoundTrip } from "./browser-roundtrip.js";
import { serveTfjsPage } from "./browser-server.js";
import { BATCH, loadDigits, maxRelDiffs } from "./save-fixtures.js";

const ROOT = new URL("../../", import.meta.url);
let server: { origin: string; close(): Promise<void> };
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(new URL("dist/tfjs.js", ROOT))) {
    throw new Error("dist/tfjs.js is missing: the page loads the built package; run `npm run build` (npm test does) first");
  }
  const executable = await chromiumExecutable();
  console.log(describeChromium(executable));
  server = await serveTfjsPage();
  browser = await chromium.launch({ executablePath: executable.path, headless: true, args: [...CHROMIUM_ARGS] });
  page = await browser.newPage();
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => { if (message.type() === "error") problems.push(`console: ${message.text()}`); });
  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => (window as unknown as { pageReady?: string }).pageReady !== undefined, undefined, { timeout: 60_000 });
  expect(await page.evaluate(() => (window as unknown as { pageReady: string }).pageReady)).toBe("ready");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const data = loadDigits(4 * BATCH);
const base = { images: Array.from(data.images), labels: Array.from(data.labels), batch: BATCH, before: 4, after: 3 };

const optimizers: [string, string][] = [
  ["tf.train.adam (TF.js's own, the harness's baseline)", "tf.train.adam(1e-2)"],
];

describe.each(["localstorage", "indexeddb"])("%s://", (scheme) => {
  for (const [label, optimizer] of optimizers) {
    for (const kind of ["mlp", "conv"] as const) {
      test(`${label}, ${kind}: saved after 4 steps, loaded, 3 more steps = 7 uninterrupted steps`, async () => {
        const url = `${scheme}://gc-${kind}-${optimizer.replace(/\W+/g, "-")}`;
        const args: BrowserRoundTrip = { ...base, url, kind, optimizer };
        const result = await page.evaluate(browserRoundTrip, args);
        expect(result.storedModels).toContain(url);
        expect(result.loadedClassName).toBe(result.className);
        const toF32 = (arrays: number[][]) => arrays.map((a) => Float32Array.from(a));
        expect(maxRelDiffs(toF32(result.continued), toF32(result.uninterrupted))).toBeLessThan(1e-5);
        expect(problems).toEqual([]);
      });
    }
  }
});
