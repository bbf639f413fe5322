// The report (npm start's report.html) and the browser demo, as a newcomer sees them: served on
// 127.0.0.1, opened in headless Chromium at a laptop's 1280 × 800 and a phone's 390 × 844. Nothing
// overflows sideways, nothing logs an error, and the plots say what the report claims: with GC on
// the update (and on the gradient with SGD) each unit's weight mean stays where it started. The
// demo's TF.js setting (a tf.layers conv net, train.adam, TF.js's wasm backend) learns with GC on
// and off.
// Screenshots go to build/screenshots/ (not committed) to be looked at.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CHROMIUM_ARGS, chromiumExecutable, describeChromium } from "./browser-executable.js";
// @ts-expect-error: a plain JS example module without type declarations
import { serveDemo } from "../examples/browser/serve.js";
// @ts-expect-error: a plain JS example module without type declarations
import { histogram } from "../examples/digits/charts.js";

const ROOT = new URL("../", import.meta.url);
const SCREENSHOTS = new URL("build/screenshots/", ROOT).pathname;
const VIEWPORTS = [
  { name: "1280", width: 1280, height: 800 },
  { name: "390", width: 390, height: 844 },
] as const;

let browser: Browser;
let demo: { url: string; close(): Promise<void> };
let reportServer: Server;
let reportUrl: string;
let reportHtml: string;
const out = mkdtempSync(join(tmpdir(), "gc-story-"));

beforeAll(async () => {
  if (!existsSync(new URL("dist/index.js", ROOT))) {
    throw new Error("dist/index.js is missing: the job and the demo run the built package; run `npm run build` (npm test does) first");
  }
  // A short run of every setting: the same page as npm start's, from 2 epochs and 2 seeds.
  const file = join(out, "report.html");
  await promisify(execFile)(process.execPath, ["examples/digits/main.js", "--epochs", "2", "--seeds", "2", "--out", file], { cwd: ROOT, maxBuffer: 1 << 24 });
  reportHtml = readFileSync(file, "utf8");
  reportServer = createServer((request, response) => {
    if (request.url === "/report.html") response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(reportHtml);
    else response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  await new Promise<void>((resolve) => reportServer.listen(0, "127.0.0.1", resolve));
  const address = reportServer.address();
  reportUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/report.html`;
  demo = await serveDemo(0);
  const executable = await chromiumExecutable(); // the system's Chromium, or the packaged one
  console.log(describeChromium(executable));
  browser = await chromium.launch({ executablePath: executable.path, headless: true, args: [...CHROMIUM_ARGS] });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  await new Promise((resolve) => (reportServer ? reportServer.close(resolve) : resolve(undefined)));
  rmSync(out, { recursive: true, force: true });
});

/** A page at `viewport` that records console errors, uncaught exceptions, failed requests and HTTP errors. */
async function openPage(viewport: { width: number; height: number }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error}`));
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return { page, problems, close: () => context.close() };
}

/** Elements wider than the page or than their own box: [] when nothing overflows sideways. */
function overflows(page: Page, selector: string) {
  return page.evaluate((selector) => {
    const root = document.documentElement;
    const found: string[] = [];
    if (root.scrollWidth > root.clientWidth) found.push(`page: scrollWidth ${root.scrollWidth} > clientWidth ${root.clientWidth}`);
    document.querySelectorAll(selector).forEach((element, k) => {
      const { right } = element.getBoundingClientRect();
      const name = `${element.tagName.toLowerCase()}.${element.className && typeof element.className === "string" ? element.className : ""}#${k}`;
      if (element.scrollWidth > element.clientWidth && element.clientWidth > 0) found.push(`${name}: scrollWidth ${element.scrollWidth} > clientWidth ${element.clientWidth}`);
      if (right > root.clientWidth + 0.5) found.push(`${name}: right edge ${right} > ${root.clientWidth}`);
    });
    return found;
  }, selector);
}

describe.each(VIEWPORTS)("at $width × $height", (viewport) => {
  test("report.html: fits the width, no console error, settings in words, results grouped by network", async () => {
    const { page, problems, close } = await openPage(viewport);
    await page.goto(reportUrl);
    await page.screenshot({ path: join(SCREENSHOTS, `report-${viewport.name}.png`), fullPage: true });
    expect(await overflows(page, ".charts, figure, svg, .table, table, p, ul, h1, h2")).toEqual([]);
    expect(problems).toEqual([]);
    // the intro and the settings table: words, not JSON
    expect(await page.textContent("body")).not.toMatch(/\{"lr"/);
    expect(await page.$$eval("table.settings tbody tr", (rows) => rows.map((r) => r.textContent))).toEqual(
      expect.arrayContaining([expect.stringMatching(/SGD, learning rate 0\.05, momentum 0\.9/)]),
    );
    // one group of rows per network, each with its settings' GC off and on rows
    const groups = await page.$$eval("table.results tbody", (bodies) => bodies.map((b) => ({ network: b.querySelector("th")!.textContent, rows: b.querySelectorAll("tr.off, tr.on").length })));
    expect(groups.map((g) => g.network)).toEqual(["MLP 64-64-10 (ReLU)", "ConvNet: conv 3×3 ×8 (ReLU) → dense 288-10", "MLP 64-64-10 (ReLU) in TF.js, cpu backend"]);
    for (const g of groups) expect(g.rows % 2, g.network!).toBe(0);
    // the TF.js group: train.adam, train.adamw and tf.train.adam, GC off and on, each with its step and optimizer time
    const tfjsRows = await page.$$eval("table.results tbody:last-of-type tr.off, table.results tbody:last-of-type tr.on", (rows) =>
      rows.map((r) => Object.fromEntries([...r.querySelectorAll("td")].map((td) => [td.dataset.label, td.textContent]))),
    );
    expect(tfjsRows.map((r) => `${r.setting} ${r.GC}`)).toEqual([
      "train.adam off", "train.adam on", "train.adamw off", "train.adamw on", "tf.train.adam off", "tf.train.adam on", // "TF.js MLP + " dropped inside the group
    ]);
    for (const r of tfjsRows) {
      expect(Number(r["ms/step*"]), r.setting).toBeGreaterThan(0);
      expect(Number(r["opt µs/step*"]), r.setting).toBeGreaterThan(0);
    }
    // every chart has a sentence under it
    const figures = await page.$$eval("figure", (all) => all.map((f) => (f.querySelector("figcaption")?.textContent ?? "").length));
    expect(figures.length).toBeGreaterThan(8);
    for (const length of figures) expect(length).toBeGreaterThan(40);
    await close();
  });

  test("the demo: fits the width, no console error (favicon included), no \"after GC\" histogram with GC off", async () => {
    const { page, problems, close } = await openPage(viewport);
    await page.goto(`${demo.url}?epochs=2`);
    const state = () => page.evaluate(() => (window as unknown as { gcDemo: { status: string; error?: string; curves: Record<string, unknown[]> } }).gcDemo);
    await page.waitForFunction(() => (window as unknown as { gcDemo: { curves: { on: unknown[] } } }).gcDemo.curves.on.length >= 2, undefined, { timeout: 60_000 });
    expect((await state()).error).toBeUndefined();
    expect(await page.textContent("#histogram svg")).toContain("after GC");
    await page.screenshot({ path: join(SCREENSHOTS, `demo-${viewport.name}-gc-on.png`), fullPage: true });
    expect(await overflows(page, ".charts, .charts > div, svg, .controls, p, h1")).toEqual([]);
    await page.uncheck("#gc");
    await page.waitForFunction(() => (window as unknown as { gcDemo: { curves: { off: unknown[] } } }).gcDemo.curves.off.length >= 2, undefined, { timeout: 60_000 });
    const histogramText = await page.textContent("#histogram svg");
    expect(histogramText).not.toContain("after GC");
    expect(histogramText).toContain("dense1.weight");
    expect(await page.$$eval("#histogram svg path", (paths) => paths.length)).toBe(0); // the "after" outline
    await page.screenshot({ path: join(SCREENSHOTS, `demo-${viewport.name}-gc-off.png`), fullPage: true });
    expect(await overflows(page, ".charts, .charts > div, svg, .controls, p, h1")).toEqual([]);
    expect(problems).toEqual([]);
    await close();
  });

  test("the demo's TF.js conv net: train.adam on the wasm backend's kernels engine learns with GC on and off, no console error, fits the width", async () => {
    const { page, problems, close } = await openPage(viewport);
    await page.goto(`${demo.url}?epochs=2`);
    await page.waitForFunction(() => (window as unknown as { gcDemo: TfjsDemoState }).gcDemo.status !== "loading", undefined, { timeout: 60_000 });
    await page.selectOption("#optimizer", "tfjs-convnet"); // GC is on (the checkbox starts checked)
    const done = (gc: boolean) =>
      page.waitForFunction(
        (gc) => {
          const d = (window as unknown as { gcDemo: TfjsDemoState }).gcDemo;
          return d.status === "error" || (d.optimizer === "tfjs-convnet" && d.gc === gc && d.status === "done");
        },
        gc,
        { timeout: 120_000 },
      );
    const state = () => page.evaluate(() => (window as unknown as { gcDemo: TfjsDemoState }).gcDemo);
    await done(true);
    let s = await state();
    expect(s.error).toBeUndefined();
    expect(s.tfjsBackend).toBe("wasm");
    expect(s.tfjsEngine).toBe("kernels");
    expect(await page.textContent("#status")).toContain("TF.js wasm backend, train.adam on this package's kernels");
    const histogramOn = await page.textContent("#histogram svg");
    expect(histogramOn).toContain("conv2d kernel gradient");
    expect(histogramOn).toContain("after GC");
    await page.screenshot({ path: join(SCREENSHOTS, `demo-${viewport.name}-tfjs-gc-on.png`), fullPage: true });
    expect(await overflows(page, ".charts, .charts > div, svg, .controls, p, h1")).toEqual([]);
    await page.uncheck("#gc");
    await done(false);
    s = await state();
    expect(s.error).toBeUndefined();
    expect(await page.textContent("#histogram svg")).not.toContain("after GC");
    // Both runs start from the same seeded weights (chance: ln 10 ≈ 2.3) and learn: the training loss
    // falls every epoch and by at least half in 2 epochs, held-out accuracy well above chance (10%).
    for (const key of ["on", "off"] as const) {
      const initial = s.initial[key].trainLoss;
      expect(initial, key).toBeGreaterThan(2);
      expect(initial, key).toBeLessThan(2.6);
      const losses = s.curves[key].map((e) => e.trainLoss);
      expect(losses, key).toHaveLength(2);
      expect(losses[0], key).toBeLessThan(initial);
      expect(losses[1], key).toBeLessThan(losses[0]);
      expect(losses[1], key).toBeLessThan(initial / 2);
      expect(s.curves[key][1].heldOutAccuracy, key).toBeGreaterThan(0.5);
    }
    expect(s.initial.on.trainLoss).toBe(s.initial.off.trainLoss); // the same initial weights
    expect(s.curves.on[0].trainLoss).not.toBe(s.curves.off[0].trainLoss); // GC changed the steps
    await page.screenshot({ path: join(SCREENSHOTS, `demo-${viewport.name}-tfjs-gc-off.png`), fullPage: true });
    expect(await overflows(page, ".charts, .charts > div, svg, .controls, p, h1")).toEqual([]);
    expect(problems).toEqual([]);
    await close();
  });
});

/** What the demo page exposes as window.gcDemo (the parts the TF.js test reads). */
interface TfjsDemoState {
  status: string;
  error?: string;
  optimizer: string;
  gc: boolean;
  tfjsBackend?: string;
  tfjsEngine?: string;
  initial: Record<"on" | "off", { trainLoss: number }>;
  curves: Record<"on" | "off", { trainLoss: number; heldOutAccuracy: number }[]>;
}

/** The numbers of a weight-means caption: "no GC 1.3e-2, GC "gradient" 6.0e-9, GC "update" 6.0e-9". */
function drifts(caption: string) {
  const value = (name: string) => Number(new RegExp(`${name} ([\\d.]+e[+-]\\d+)`).exec(caption)?.[1]);
  return { off: value("no GC"), gradient: value('GC "gradient"'), update: value('GC "update"') };
}

test("report.html: per-unit weight means stay put with GC on the update (and on the gradient with SGD), and move without GC", () => {
  const packageRows = [...reportHtml.matchAll(/<td data-label="optimizer">this package's (\w+)/g)].map((m) => m[1]);
  const captions = [...reportHtml.matchAll(/<figure><svg[^]*?aria-label="([^"]+)"[^]*?<figcaption>(One line per output unit[^<]*)<\/figcaption>/g)].map((m) => ({
    title: m[1],
    ...drifts(m[2].replace(/&quot;/g, '"')),
  }));
  expect(captions.map((c) => c.title)).toEqual(expect.arrayContaining(["MLP + SGD (momentum 0.9): dense1.weight per-unit weight means", "MLP + Adam: dense1.weight per-unit weight means", "ConvNet + Adam: conv.weight per-unit weight means"]));
  expect(captions).toHaveLength(packageRows.length); // one per setting of this package's optimizers
  for (const c of captions) {
    expect(c.off, c.title).toBeGreaterThan(1e-3); // He-initialized weights: unit means move by ~1e-2 in 2 epochs
    expect(c.update, c.title).toBeLessThan(1e-6); // float32 rounding only
  }
  const drift = (title: string) => captions.find((c) => c.title.startsWith(title))!;
  expect(drift("MLP + SGD").gradient).toBeLessThan(1e-6); // SGD's step is a sum of centred gradients
  for (const adam of ["MLP + Adam", "ConvNet + Adam"]) expect(drift(adam).gradient).toBeLessThan(drift(adam).off); // Adam's rescaling un-centres the step: it moves, less
});

/** The y of the plot's bottom and top: the y axis line of a chart. */
function plotBox(svg: string) {
  const axis = /<line x1="(\d+)" x2="\1" y1="([\d.]+)" y2="([\d.]+)" stroke="#999"\/>/.exec(svg)!;
  return { bottom: Number(axis[2]), top: Number(axis[3]) };
}

test("histogram(): exact zeros are counted in the legend, not drawn; the tallest bar stays below the frame's top", () => {
  const values = new Float32Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -0.5, 0.25, 0.5, 0.5, 1]);
  const svg: string = histogram({ title: "t", xLabel: "x", bins: 4, series: [{ label: "before GC", color: "#888", values }] });
  expect(svg).toContain("before GC (+12 exact zeros, not drawn)");
  // 4 bins over [-1, 1] (the largest |non-zero| value): the 6 non-zero values fall 1, 1, 1, 3
  const bars = [...svg.matchAll(/<rect class="bar" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"/g)].map((m) => Number(m[1]));
  expect(bars).toHaveLength(4);
  expect(bars.map((h) => Math.round((10 * h) / bars[0]) / 10)).toEqual([1, 1, 1, 3]);
  const { bottom, top } = plotBox(svg);
  const tallest = Math.max(...bars);
  expect(tallest).toBeLessThan(0.9 * (bottom - top));
  expect(tallest).toBeGreaterThan(0.8 * (bottom - top));
});

test("histogram(): a second series is an outline whose highest step also stays below the top; its legend says it has no zeros", () => {
  const before = new Float32Array([0, 0, 0, -1, -0.5, 0.25, 0.5, 0.5, 1]);
  const after = before.map((v) => v - 0.25); // no exact zero left; 0.25 becomes one
  const svg: string = histogram({ title: "t", xLabel: "x", bins: 4, series: [{ label: "before GC", color: "#888", values: before }, { label: "after GC", color: "#d00", values: after }] });
  expect(svg).toContain("before GC (+3 exact zeros, not drawn)");
  expect(svg).toContain("after GC (+1 exact zeros, not drawn)");
  const outline = /<path class="outline" d="([^"]+)"/.exec(svg)![1];
  const steps = [...outline.matchAll(/V([\d.]+)/g)].map((m) => Number(m[1]));
  const { bottom, top } = plotBox(svg);
  expect(Math.min(...steps)).toBeGreaterThan(top + 0.1 * (bottom - top));
  expect(Math.min(...steps)).toBeLessThan(top + 0.2 * (bottom - top)); // the tallest of both series sets the scale
});
