// The TF.js-ops engine on a GPU backend: TF.js's webgl backend in headless Chromium (WebGL 2 on
// SwiftShader), the built package (dist/tfjs.js) and TF.js's ES module bundle sharing one TF.js.
// The same train.* optimizers (engine "tfjs") fed the same gradients on webgl and on the page's cpu
// backend reach the same weights (float32 tolerance), gc "update" keeps every unit's weight mean,
// and numTensors stays flat. The browser: see tests/browser-executable.ts.
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { CHROMIUM_ARGS, chromiumExecutable, describeChromium } from "../browser-executable.js";
import { randomArray } from "../random.js";
import { largestUnitMean } from "./unit-oracle.js";

const ROOT = new URL("../../", import.meta.url);
const PAGE = `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "@tensorflow/tfjs-core": "/tfjs/tf.fesm.js", "gradient-centralization": "/dist/index.js" } }</script>
<script>window.onerror = (message) => { window.pageReady = "error: " + message; };</script>
<script type="module">
  import * as tf from "@tensorflow/tfjs-core";
  import * as gct from "/dist/tfjs.js";
  window.tf = tf;
  window.gct = gct;
  window.pageReady = "ready";
</script>`;

/** Serves the page, TF.js's dist/ under /tfjs/ and the package's dist/ under /dist/. */
function serve(): Promise<{ origin: string; server: Server }> {
  const types: Record<string, string> = { ".js": "text/javascript", ".wasm": "application/wasm", ".map": "application/json" };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const file = path === "/" ? null
      : path.startsWith("/tfjs/") ? new URL(`node_modules/@tensorflow/tfjs/dist/${path.slice(6)}`, ROOT)
      : path.startsWith("/dist/") ? new URL(`dist/${path.slice(6)}`, ROOT) : undefined;
    if (file === null) return void response.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    if (path === "/favicon.ico") return void response.writeHead(204).end();
    if (file === undefined || path.includes("..") || !existsSync(file)) return void response.writeHead(404).end();
    response.writeHead(200, { "content-type": types[extname(file.pathname)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const address = server.address() as { port: number };
    resolve({ origin: `http://127.0.0.1:${address.port}`, server });
  }));
}

let server: Server;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(new URL("dist/tfjs.js", ROOT))) throw new Error("dist/tfjs.js is missing: run `npm run build` (npm test does) first");
  const executable = await chromiumExecutable();
  console.log(describeChromium(executable));
  const served = await serve();
  server = served.server;
  browser = await chromium.launch({ executablePath: executable.path, headless: true, args: [...CHROMIUM_ARGS] });
  page = await browser.newPage();
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => { if (message.type() === "error") problems.push(`console: ${message.text()}`); });
  page.on("response", (response) => { if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`); });
  await page.goto(`${served.origin}/`);
  await page.waitForFunction(() => (window as unknown as { pageReady?: string }).pageReady !== undefined, undefined, { timeout: 60_000 });
  expect(await page.evaluate(() => (window as unknown as { pageReady: string }).pageReady)).toBe("ready");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const SHAPES: Record<string, number[]> = { dense: [6, 4], bias: [4], conv: [3, 3, 2, 4], rows: [5, 3] };
const STEPS = 12;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface Run {
  backend: string;
  optimizer: string;
  shapes: Record<string, number[]>;
  initial: number[][];
  gradients: number[][][];
}

/** In the page: trains fresh variables with `optimizer` (an expression of `gct`) on `backend`; returns the weights and numTensors growth. */
async function train(run: Run): Promise<{ weights: number[][]; leaked: number; float32: boolean; engine: string }> {
  const { tf, gct } = window as unknown as { tf: typeof import("@tensorflow/tfjs"); gct: Record<string, unknown> };
  await tf.setBackend(run.backend);
  await tf.ready();
  const tag = `${run.backend}-${Math.random().toString(36).slice(2)}`;
  const names = Object.keys(run.shapes);
  const vars = names.map((name, i) => tf.variable(tf.tensor(run.initial[i], run.shapes[name]), true, `${tag}/${name}`));
  const optimizer = new Function("gct", `return ${run.optimizer};`)(gct) as import("@tensorflow/tfjs").Optimizer;
  const stepOnce = (k: number) => {
    const grads = names.map((name, i) => tf.tensor(run.gradients[k % run.gradients.length][i], run.shapes[name]));
    optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i] })));
    tf.dispose(grads);
  };
  stepOnce(0);
  const start = tf.memory().numTensors;
  for (let k = 1; k < run.gradients.length; k++) stepOnce(k);
  const leaked = tf.memory().numTensors - start;
  const weights = vars.map((v) => Array.from(v.dataSync()));
  const engine = (optimizer as unknown as { engineKind: string }).engineKind;
  const float32 = run.backend !== "webgl" || tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED");
  optimizer.dispose();
  tf.dispose(vars);
  return { weights, leaked, float32, engine };
}

const cases: [string, string, boolean][] = [
  ["train.adam, gc \"gradient\"", "gct.train.adam(0.01, 0.9, 0.999, 1e-7, { engine: \"tfjs\" })", false],
  ["train.momentum (Nesterov), gc \"update\"", "gct.train.momentum(0.05, 0.9, true, { gc: \"update\", engine: \"tfjs\" })", true],
  ["train.rmsprop (momentum), gc false", "gct.train.rmsprop(0.01, 0.9, 0.5, 1e-6, false, { gc: false, engine: \"tfjs\" })", false],
  ["train.adamw, gc \"update\", decay, rows on axis 0", "gct.train.adamw(0.01, { weightDecay: 0.1, gc: \"update\", engine: \"tfjs\", unitAxis: (name) => (name.endsWith(\"/rows\") ? 0 : undefined) })", true],
  ["train.ranger (k 4), gc \"gradient\"", "gct.train.ranger(0.01, { k: 4, engine: \"tfjs\" })", false],
  ["train.nadam, gc \"gradient\"", "gct.train.nadam(0.01, { weightDecay: 0.01, engine: \"tfjs\" })", false],
];

for (const [label, optimizer, keepsUnitMeans] of cases) {
  test(`${label} on webgl: the weights of the cpu backend (same page, same gradients) within 1e-5 of the distance travelled; no leaks`, async () => {
    const names = Object.keys(SHAPES);
    const initial = names.map((name, i) => Array.from(randomArray(size(SHAPES[name]), 60 + i)));
    const gradients = Array.from({ length: STEPS }, (_, k) => names.map((name, i) => Array.from(randomArray(size(SHAPES[name]), 700 + 10 * k + i, 0.2))));
    const run = { optimizer, shapes: SHAPES, initial, gradients };
    const webgl = await page.evaluate(train, { ...run, backend: "webgl" });
    const cpu = await page.evaluate(train, { ...run, backend: "cpu" });
    expect(webgl.float32, "webgl renders float32").toBe(true);
    expect([webgl.engine, cpu.engine]).toEqual(["tfjs", "tfjs"]);
    expect([webgl.leaked, cpu.leaked]).toEqual([0, 0]);
    let worst = 0;
    names.forEach((name, i) => {
      const travelled = Math.max(...cpu.weights[i].map((x, j) => Math.abs(x - initial[i][j])));
      const gap = Math.max(...cpu.weights[i].map((x, j) => Math.abs(x - webgl.weights[i][j])));
      expect(travelled, name).toBeGreaterThan(0);
      expect(gap / travelled, name).toBeLessThan(1e-5);
      worst = Math.max(worst, gap / travelled);
      if (keepsUnitMeans && SHAPES[name].length > 1) {
        const moved = webgl.weights[i].map((x, j) => x - initial[i][j]);
        const axis = name === "rows" && label.includes("rows") ? 0 : SHAPES[name].length - 1;
        expect(largestUnitMean(moved, SHAPES[name], { axis, span: 1 }) / travelled, `${name}: unit means of the step`).toBeLessThan(1e-5);
      }
    });
    if (process.env.GC_REPORT) console.log(`webgl vs cpu, ${label}: worst ${worst.toExponential(2)}`);
    expect(problems).toEqual([]);
  }, 120_000);
}
