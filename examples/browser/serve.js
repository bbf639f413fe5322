#!/usr/bin/env node
// A tiny static server for the browser demo, on 127.0.0.1: the page (examples/), the built
// package (dist/), @assemblyscript/loader and TF.js's bundles and .wasm files, which the page's
// import map points at.
// Usage: npm run build && node examples/browser/serve.js [port]   then open the printed URL.
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SERVED = [
  "examples/",
  "dist/",
  "node_modules/@assemblyscript/loader/",
  ...["tfjs-core", "tfjs-layers", "tfjs-backend-wasm", "tfjs-backend-webgl"].map((name) => `node_modules/@tensorflow/${name}/dist/`),
];
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".gz": "application/gzip",
  ".json": "application/json",
};

/**
 * The decoded path of a request target, or undefined when it cannot be parsed ("//") or its
 * percent-escapes are malformed ("/examples/%E0%A4%A"): both would throw inside the handler.
 */
function pathOf(target) {
  try {
    return decodeURIComponent(new URL(target, "http://127.0.0.1").pathname);
  } catch {
    return undefined;
  }
}

/** The file under ROOT for a decoded path, or undefined when it is outside the served folders. */
function fileFor(path) {
  const relative = normalize(path).replace(/^[/\\]+/, "");
  if (relative.split(sep).includes("..") || !SERVED.some((dir) => relative.startsWith(dir))) return undefined;
  return join(ROOT, relative);
}

/** Starts the server on 127.0.0.1 (`port` 0: any free port); resolves to `{ url, close() }`. */
export function serveDemo(port = 0) {
  const server = createServer((request, response) => {
    const path = pathOf(request.url ?? "/");
    if (path === undefined) {
      response.writeHead(400, { "content-type": "text/plain" }).end("bad request: malformed URL path\n");
      return;
    }
    if (path === "/") {
      response.writeHead(302, { location: "/examples/browser/index.html" }).end();
      return;
    }
    const file = fileFor(path);
    let size;
    try {
      size = file && statSync(file).isFile() ? statSync(file).size : undefined;
    } catch {
      size = undefined;
    }
    if (size === undefined) {
      response.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}\n`);
      return;
    }
    response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": size, "cache-control": "no-store" });
    createReadStream(file).pipe(response);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: actual } = server.address();
      resolve({
        url: `http://127.0.0.1:${actual}/examples/browser/index.html`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const { url } = await serveDemo(Number(process.argv[2] ?? 8080));
  console.log(`digits demo: ${url}  (Ctrl-C to stop)`);
}
