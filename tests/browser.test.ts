// The browser demo (examples/browser/) in headless Chromium: it trains the digits MLP with the
// built package (dist/), the loss falls, the charts have content; GC can be toggled. And a plain
// page that loads dist/index.js with no import map. The browser: see tests/browser-executable.ts.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
// @ts-expect-error: a plain JS example module without type declarations
import { serveDemo } from "../examples/browser/serve.js";
import { CHROMIUM_ARGS, chromiumExecutable, describeChromium } from "./browser-executable.js";
import { centralizeReference, maxAbsDiff } from "./oracle.js";
import { randomArray } from "./random.js";

const ROOT = new URL("../", import.meta.url);
const SCREENSHOTS = new URL("examples/browser/screenshots/", ROOT);
const EPOCHS = 6;

interface Curve { trainLoss: number; heldOutAccuracy: number }
interface DemoState { status: string; backend: string; optimizer: string; gc: boolean; curves: { on: Curve[]; off: Curve[] }; error?: string }

let server: { url: string; close(): Promise<void> };
let context: BrowserContext;
let page: Page;
let profile: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(new URL("dist/index.js", ROOT))) {
    throw new Error("dist/index.js is missing: the demo runs the built package; run `npm run build` (npm test does) first");
  }
  const browser = await chromiumExecutable();
  console.log(describeChromium(browser));
  server = await serveDemo(0);
  profile = mkdtempSync(join(tmpdir(), "gc-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: browser.path,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1000, height: 760 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("requestfailed", (request) => pageErrors.push(`request failed: ${request.url()}`));
}, 120_000); // the first chromiumExecutable() on a fresh machine unpacks the packaged browser

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const state = () => page.evaluate(() => (window as unknown as { gcDemo: DemoState }).gcDemo);

async function waitForEpochs(key: "on" | "off", epochs: number) {
  await page.waitForFunction(
    ({ key, epochs }) => {
      const demo = (window as unknown as { gcDemo?: DemoState }).gcDemo;
      return demo?.status === "error" || (demo?.curves[key].length ?? 0) >= epochs;
    },
    { key, epochs },
    { timeout: 60_000 },
  );
  const demo = await state();
  expect(demo.error, demo.error).toBeUndefined();
  return demo.curves[key];
}

function expectLearning(curve: Curve[]) {
  expect(curve.length).toBeGreaterThanOrEqual(EPOCHS);
  for (const e of curve) expect(Number.isFinite(e.trainLoss)).toBe(true);
  expect(curve[EPOCHS - 1].trainLoss).toBeLessThan(0.5 * curve[0].trainLoss);
  expect(curve[EPOCHS - 1].heldOutAccuracy).toBeGreaterThan(0.85); // 10 classes: chance is 0.1
}

test("the demo trains with GC in Chromium: the loss falls and both charts are drawn", async () => {
  await page.goto(`${server.url}?epochs=${EPOCHS}`);
  const curve = await waitForEpochs("on", EPOCHS);
  expectLearning(curve);
  const demo = await state();
  expect(demo.gc).toBe(true);
  expect(["simd", "scalar"]).toContain(demo.backend);
  // The loss chart: one polyline (the GC run) with a point per epoch; the histogram: bars.
  const points = await page.$$eval("#loss-chart svg polyline", (lines) => lines.map((l) => l.getAttribute("points")!.trim().split(/\s+/).length));
  expect(points).toEqual([EPOCHS]);
  expect(await page.$$eval("#histogram svg rect[opacity]", (bars) => bars.length)).toBeGreaterThan(10);
  expect(await page.textContent("#status")).toMatch(new RegExp(`epoch ${EPOCHS}/${EPOCHS}`));
  expect(pageErrors).toEqual([]);
});

test("toggling GC off retrains without it and keeps the GC curve for comparison", async () => {
  await page.uncheck("#gc");
  const curve = await waitForEpochs("off", EPOCHS);
  expectLearning(curve);
  const demo = await state();
  expect(demo.gc).toBe(false);
  expect(demo.curves.on.length).toBe(EPOCHS);
  // Same seed, same batches: the two runs differ only by GC, so their losses are not identical.
  expect(curve.map((e) => e.trainLoss)).not.toEqual(demo.curves.on.map((e) => e.trainLoss));
  expect(await page.$$eval("#loss-chart svg polyline", (lines) => lines.length)).toBe(2);
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: new URL("digits-demo.png", SCREENSHOTS).pathname, fullPage: true });
  expect(pageErrors).toEqual([]);
});

test("the ConvNet setting trains too, and the histogram shows its rank-4 kernel's gradient", async () => {
  await page.selectOption("#optimizer", "cnn-adam");
  await page.waitForFunction(() => (window as unknown as { gcDemo: DemoState }).gcDemo.optimizer === "cnn-adam");
  const curve = await waitForEpochs("off", EPOCHS);
  expectLearning(curve);
  expect((await state()).curves.on).toEqual([]); // a new setting starts a new comparison
  expect(await page.textContent("#histogram svg")).toContain("conv.weight");
  expect(await page.textContent("#loss-chart svg")).toContain("ConvNet + Adam");
  expect(pageErrors).toEqual([]);
});

test("a malformed request path answers 400, and the server keeps serving the page", async () => {
  const origin = new URL(server.url).origin;
  // a broken percent-escape (decodeURIComponent throws) and a target URL cannot parse
  for (const path of ["/examples/%E0%A4%A", "//"]) {
    const response = await fetch(origin + path);
    expect(response.status, path).toBe(400);
    expect(await response.text(), path).toMatch(/bad request/);
  }
  const response = await fetch(server.url);
  expect(response.status).toBe(200);
  expect(await response.text()).toContain("<title>Gradient Centralization: digits in the browser</title>");
});

/** The page below keeps the imported module on window. */
interface NoImportMapWindow { gcModule: typeof import("../src/index.js") }

test("a page loads dist/index.js with <script type=module> and no import map: the loader is inside it", async () => {
  // A plain static page next to the demo: the module script and an inline import of the same file.
  const origin = new URL(server.url).origin;
  const pageUrl = `${origin}/examples/no-import-map.html`;
  const tab = await context.newPage();
  const problems: string[] = [];
  const requested: string[] = [];
  tab.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  tab.on("console", (message) => { if (message.type() === "error") problems.push(`console: ${message.text()}`); });
  tab.on("request", (request) => requested.push(new URL(request.url()).pathname));
  await tab.route(pageUrl, (route) => route.fulfill({
    contentType: "text/html",
    body: `<!doctype html><meta charset="utf-8"><title>no import map</title>
<script type="module" src="/dist/index.js"></script>
<script type="module">
  import * as gc from "/dist/index.js";
  await gc.init();
  window.gcModule = gc;
</script>\n`,
  }));
  try {
    const failed = new Promise<never>((_, reject) => tab.once("pageerror", (error) => reject(new Error(`the module did not load: ${error.message}`))));
    await tab.goto(pageUrl);
    await Promise.race([tab.waitForFunction(() => "gcModule" in window, undefined, { timeout: 30_000 }), failed]);
    const shape = [6, 9];
    const grad = randomArray(54, 17, 3, 2);
    for (const layout of ["out-first", "out-last"] as const) {
      const result = await tab.evaluate(
        ({ data, shape, layout }) => Array.from((window as unknown as NoImportMapWindow).gcModule.centralize(new Float32Array(data), shape, { layout })),
        { data: Array.from(grad), shape, layout },
      );
      expect(maxAbsDiff(result, centralizeReference(grad, shape, layout)), layout).toBeLessThanOrEqual(1e-6);
    }
    expect(["simd", "scalar"]).toContain(await tab.evaluate(() => (window as unknown as NoImportMapWindow).gcModule.backend()));
    expect(problems).toEqual([]);
    // Only the page and dist/index.js were fetched: nothing from node_modules/.
    expect(requested.filter((path) => !path.endsWith("/favicon.ico"))).toEqual(["/examples/no-import-map.html", "/dist/index.js"]);
  } finally {
    await tab.close();
  }
});
