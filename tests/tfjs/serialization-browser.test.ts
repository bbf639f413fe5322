// Save → load → continue through the browser's storage URLs (localstorage://, indexeddb://) in
// headless Chromium, with the built package (dist/tfjs.js) and TF.js's ES module bundle sharing one
// TF.js instance. The browser: see tests/browser-executable.ts.
import { existsSync, readFileSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CHROMIUM_ARGS, chromiumExecutable, describeChromium } from "../browser-executable.js";
import { type BrowserRoundTrip, browserRoundTrip } from "./browser-roundtrip.js";
import { serveTfjsPage } from "./browser-server.js";
import { BATCH, bitIdentical, loadDigits, unitMeansOfStep } from "./save-fixtures.js";

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

// The engines: the kernels, and TF.js ops once engines/ops.ts is in the tree (tfjsOps's).
const ENGINES = existsSync(new URL("src/tfjs/engines/ops.ts", ROOT)) ? ["kernels", "tfjs"] : ["kernels"];

/** [label, model, the optimizer as an expression of the page's `gct` (engine: `ENGINE`), whether its steps keep the unit means]. */
const optimizers: [string, "mlp" | "conv", string, boolean][] = [
  ["train.adam, gc \"gradient\"", "mlp", "gct.train.adam(1e-2, 0.9, 0.999, null, { engine: ENGINE })", false],
  ["train.adamw, gc \"update\", excludeFromWeightDecay", "conv", "gct.train.adamw(1e-2, { gc: \"update\", excludeFromWeightDecay: [\"bias\"], engine: ENGINE })", true],
  ["train.ranger (k 3: a synchronization before and after the save)", "conv", "gct.train.ranger(1e-2, { k: 3, engine: ENGINE })", false],
];

const toF32 = (arrays: number[][]) => arrays.map((a) => Float32Array.from(a));

describe.each(["localstorage", "indexeddb"])("%s://", (scheme) => {
  describe.each(ENGINES)("engine %s", (engine) => {
    for (const [label, kind, expression, keepsUnitMeans] of optimizers) {
      test(`${label}, ${kind}: saved after 4 steps, loaded, 3 more steps = 7 uninterrupted steps, bit for bit`, async () => {
        const url = `${scheme}://gc-${kind}-${label.replace(/\W+/g, "-")}-${engine}`;
        const optimizer = expression.replace("ENGINE", JSON.stringify(engine));
        const result = await page.evaluate(browserRoundTrip, { ...base, url, kind, optimizer } satisfies BrowserRoundTrip);
        expect(result.storedModels).toContain(url);
        expect(result.className).toMatch(/^Gc/);
        expect(result.loadedClassName).toBe(result.className);
        expect(result.engineKind).toBe(engine);
        expect(bitIdentical(toF32(result.continued), toF32(result.uninterrupted))).toBe(true);
        expect(toF32(result.continued).every((a) => a.every(Number.isFinite))).toBe(true);
        const { unitMean, step } = unitMeansOfStep(toF32(result.lastBefore), toF32(result.continued), result.shapes);
        expect(step).toBeGreaterThan(0);
        if (keepsUnitMeans) expect(unitMean).toBeLessThan(1e-5 * step); // GC ("update") still on after the load
        expect(problems).toEqual([]);
      });
    }
  });
});

test("README's 'Saving and loading' example runs as written in the page (indexeddb://), its reloaded optimizer a GcAdamW that trains on", async () => {
  const readme = readFileSync(new URL("README.md", ROOT), "utf8");
  const section = readme.slice(readme.indexOf("### Saving and loading"));
  const example = /```js\n([\s\S]*?)```/.exec(section)![1];
  expect(example).toContain('tf.loadLayersModel("indexeddb://digits")');
  // The page's modules stand for the imports; a small model and data stand for the user's.
  const body = example
    .replace(/^import \* as tf from "@tensorflow\/tfjs";$/m, "const tf = window.tf;")
    .replace(/^import \{ ([^}]+) \} from "gradient-centralization\/tfjs";$/m, "const { $1 } = window.gct;");
  expect(body).not.toMatch(/^import /m);
  const result = await page.evaluate(async (code) => {
    const tf = (window as unknown as { tf: typeof import("@tensorflow/tfjs") }).tf;
    const model = tf.sequential();
    model.add(tf.layers.dense({ inputShape: [4], units: 3, activation: "relu" }));
    model.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    const xs = tf.randomNormal([16, 4], 0, 1, "float32", 1);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0], "int32"), 2);
    const run = new Function("model", "xs", "ys", `return (async () => { ${code}\nreturn { className: restored.optimizer.getClassName(), iterations: restored.optimizer.iterations, engine: restored.optimizer.engineKind }; })();`);
    const out = await run(model, xs, ys);
    await tf.io.removeModel("indexeddb://digits");
    return out;
  }, body);
  // 16 examples in batches of 32: one step per epoch, 5 epochs before the save and 5 after
  expect(result).toEqual({ className: "GcAdamW", iterations: 10, engine: "kernels" });
  expect(problems).toEqual([]);
});
