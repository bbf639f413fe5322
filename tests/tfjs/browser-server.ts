// A static server on 127.0.0.1 for the TF.js browser tests: the built package (dist/), TF.js's
// ES module bundle, and one page whose import map points `@tensorflow/tfjs`, `@tensorflow/tfjs-core`
// (one TF.js instance for the page and the package), `gradient-centralization` and
// `gradient-centralization/tfjs` at them. The page puts both modules on `window` (`tf`, `gct`).
import { readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SERVED = ["dist/", "node_modules/@tensorflow/tfjs/dist/"];
const TFJS = "/node_modules/@tensorflow/tfjs/dist/tf.fesm.js";
const TYPES: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".wasm": "application/wasm", ".map": "application/json" };

/** The page: an import map, then a module that loads TF.js and the tfjs entry and says so on window. */
export const PAGE = `<!doctype html><meta charset="utf-8"><title>gc tfjs serialization</title>
<script>window.__name = (target) => target; // what a bundler's keepNames may leave in evaluated functions</script>
<script type="importmap">${JSON.stringify({
  imports: {
    "@tensorflow/tfjs": TFJS,
    "@tensorflow/tfjs-core": TFJS,
    "gradient-centralization": "/dist/index.js",
    "gradient-centralization/tfjs": "/dist/tfjs.js",
  },
})}</script>
<script type="module">
  import * as tf from "@tensorflow/tfjs";
  import * as gct from "gradient-centralization/tfjs";
  try {
    await tf.setBackend("cpu");
    if (typeof gct.init === "function") await gct.init();
    Object.assign(window, { tf, gct, pageReady: "ready" });
  } catch (error) {
    window.pageReady = "error: " + (error && error.stack || error);
  }
</script>\n`;

/** Starts the server on a free port; resolves to `{ origin, close() }`. The page is at `${origin}/`. */
export function serveTfjsPage(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    if (path === "/favicon.ico") {
      response.writeHead(204).end();
      return;
    }
    if (path === "/") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(PAGE);
      return;
    }
    const relative = normalize(decodeURIComponent(path)).replace(/^[/\\]+/, "");
    const file = join(ROOT, relative);
    const allowed = !relative.split(sep).includes("..") && SERVED.some((dir) => relative.startsWith(dir));
    if (!allowed || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      response.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}\n`);
      return;
    }
    response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" }).end(readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({ origin: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}
