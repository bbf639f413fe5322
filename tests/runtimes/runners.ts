// Runs the conformance suite (suite.mjs) against the packed package in each runtime, each time in
// a fresh instance (process, page, worker or VM) so that init() really loads the requested build.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { EdgeVM } from "@edge-runtime/vm";
import { Miniflare } from "miniflare";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, chromiumExecutable } from "../browser-executable.js";
import { bundleHarness, resolvePackageExport } from "./bundle.js";

/** The kernel build a run asks for; "threads" is init({ threads: 2 }) (its fallback is "simd"). */
export type Build = "simd" | "scalar" | "threads";
/** How the suite loads the kernels: `await init(…)` or `initSync(…)`. */
export type Loader = "init" | "initSync";

/** One runtime × build: what the suite reported. */
export interface SuiteRun {
  runtime: string;
  build: Build;
  /** Set when the suite loaded the kernels with initSync instead of init. */
  loader?: Loader;
  version: string;
  /** The package file this runtime loaded (its exports map decided). */
  entry: string;
  passed: number;
  failed: number;
  failures: string[];
  /** What backend() said once the suite had initialized the package. */
  backend?: string;
}

export const root = fileURLToPath(new URL("../../", import.meta.url));
const here = fileURLToPath(new URL(".", import.meta.url));
const PACKAGE = "gradient-centralization";

/** A runtime's binary: a missing one is an error (npm ci installs deno, bun and workerd). */
export function requireBinary(path: string): string {
  if (!existsSync(path)) throw new Error(`runtime binary missing: ${path} (npm ci installs deno, bun and workerd)`);
  return path;
}
const devBinary = (name: string) => requireBinary(join(root, "node_modules/.bin", name));

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env }, timeout: 180_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The result line every runtime prints, e.g. "node-esm simd: 20 passed, 0 failed". */
export const resultLine = (r: SuiteRun) =>
  `${r.runtime} ${r.build}${r.loader === "initSync" ? " (initSync)" : ""}: ${r.passed} passed, ${r.failed} failed`;

/** Options of the bundled runtimes (workerd, edge-runtime): the bundler's conditions, the suite's loader. */
export interface BundledRunOptions {
  conditions?: readonly string[];
  loader?: Loader;
}

/** A packed and installed package: the tarball and a temporary project with the harness files. */
export interface PackedProject {
  tarball: string;
  project: string;
  cleanup(): void;
}

/**
 * `npm pack` (prepack runs the build) into a temporary directory, then a temporary project that
 * installs the tarball and holds the suite, its fixtures and the harnesses.
 */
export async function packAndInstall(): Promise<PackedProject> {
  const dir = mkdtempSync(join(tmpdir(), "gc-packed-"));
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], root);
  const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string }[];
  const tarball = join(dir, filename);
  const project = join(dir, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "gc-conformance", private: true, type: "module" }, null, 2));
  await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], project);
  cpSync(join(here, "suite.mjs"), join(project, "suite.mjs"));
  cpSync(join(here, "fixtures.json"), join(project, "fixtures.json"));
  for (const file of readdirSync(join(here, "harness"))) cpSync(join(here, "harness", file), join(project, file));
  return { tarball, project, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Parses the "RESULT {json}" line a harness printed. */
function parseReport(stdout: string, what: string): SuiteRun {
  const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`${what} printed no RESULT line:\n${stdout}`);
  return JSON.parse(line.slice("RESULT ".length)) as SuiteRun;
}

/** Which Node runs a harness: the one running the tests, or another binary under its own label prefix ("node22"). */
export interface NodeBinary {
  path: string;
  label: string;
}
const thisNode: NodeBinary = { path: process.execPath, label: "node" };

/** Node with `import` (the ESM entry); runtime label `<label>-esm`. */
export async function runNodeEsm(project: string, build: Build, node: NodeBinary = thisNode): Promise<SuiteRun> {
  const label = `${node.label}-esm`;
  const { stdout } = await run(node.path, ["cli.mjs", label, build], project);
  return parseReport(stdout, label);
}

/** Node with `require` (the CJS entry); runtime label `<label>-cjs`. */
export async function runNodeCjs(project: string, build: Build, node: NodeBinary = thisNode): Promise<SuiteRun> {
  const label = `${node.label}-cjs`;
  const { stdout } = await run(node.path, ["cjs.cjs", build, label], project);
  return parseReport(stdout, label);
}

/**
 * Deno 2 with the project's node_modules and no permission at all (the narrowest: loading modules,
 * local or from node_modules, needs none; --no-prompt turns any request into an error).
 */
export async function runDeno(project: string, build: Build): Promise<SuiteRun> {
  const deno = devBinary("deno");
  const args = ["run", "--no-prompt", "--no-lock", "cli.mjs", "deno", build];
  const { stdout } = await run(deno, args, project, { DENO_DIR: join(project, ".deno"), DENO_NO_UPDATE_CHECK: "1" });
  return parseReport(stdout, "deno");
}

/** Bun 1. */
export async function runBun(project: string, build: Build): Promise<SuiteRun> {
  const { stdout } = await run(devBinary("bun"), ["cli.mjs", "bun", build], project);
  return parseReport(stdout, "bun");
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".json": "application/json",
  ".wasm": "application/wasm",
};

/**
 * Headless Chromium: a page on 127.0.0.1 maps the package and its loader with an import map to
 * the files the "browser" condition selects, under a CSP that allows wasm only through
 * 'wasm-unsafe-eval'. One fresh page (one fresh module graph) per build.
 */
export async function runChromium(project: string, builds: readonly Build[], { isolated = true }: { isolated?: boolean } = {}): Promise<SuiteRun[]> {
  const browser = await chromiumExecutable();
  const conditions = ["browser", "import", "default"];
  const urlOf = (file: string) => `/${relative(project, file)}`;
  const entry = resolvePackageExport(project, PACKAGE, conditions);
  const importMap = JSON.stringify({
    imports: { [PACKAGE]: urlOf(entry), "@assemblyscript/loader": urlOf(resolvePackageExport(project, "@assemblyscript/loader", conditions)) },
  });
  const hash = createHash("sha256").update(importMap).digest("base64");
  const page = `<!doctype html><meta charset="utf-8"><title>conformance</title>
<script type="importmap">${importMap}</script>
<script type="module" src="/browser.mjs"></script>\n`;
  // worker-src blob: for the threads build's workers (their script is inlined, started from a blob: URL).
  const csp = `default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-${hash}'; worker-src 'self' blob:`;
  // Cross-origin isolation (SharedArrayBuffer, hence threads) needs both headers on the page.
  const isolation: Record<string, string> = isolated ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {};
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (path === "/favicon.ico") return void res.writeHead(204).end();
    if (path === "/") return void res.writeHead(200, { "content-type": CONTENT_TYPES[".html"], "content-security-policy": csp, ...isolation }).end(page);
    const file = join(project, decodeURIComponent(path));
    if (!file.startsWith(project) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream", ...isolation }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profile = mkdtempSync(join(tmpdir(), "gc-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: browser.path,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  try {
    const runs: SuiteRun[] = [];
    for (const build of builds) {
      const tab = await context.newPage();
      const problems: string[] = [];
      tab.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
      tab.on("console", (message) => { if (message.type() === "error") problems.push(`console: ${message.text()}`); });
      await tab.goto(`${origin}/?build=${build}`);
      const handle = await tab.waitForFunction(() => (window as unknown as { __suiteResult?: unknown }).__suiteResult, undefined, { timeout: 60_000 }).catch((error: Error) => {
        throw new Error(`chromium ${build}: the suite did not start: ${error.message}\n${problems.join("\n")}`);
      });
      await handle.dispose();
      const result = await tab.evaluate(() => (window as unknown as { __suiteResult: Promise<Omit<SuiteRun, "runtime">> }).__suiteResult);
      runs.push({ ...result, runtime: "chromium", build, version: `${browser.version} (${browser.path}, ${browser.source})`, entry });
      if (problems.length) runs[runs.length - 1].failures.push(...problems);
      await tab.close();
    }
    return runs;
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The conditions wrangler bundles a Worker with. */
export const WORKERD_CONDITIONS = ["workerd", "worker", "browser", "import", "default"];
/** The conditions Next.js bundles an edge route with. */
export const EDGE_CONDITIONS = ["edge-light", "worker", "browser", "import", "default"];
/** A bundler that knows neither: it gets the default entry (embedded bytes). */
export const PLAIN_CONDITIONS = ["browser", "import", "default"];

const packageVersion = (name: string) => (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

/**
 * Cloudflare workerd through miniflare: the worker is bundled the way wrangler does (the
 * "workerd" condition, `.wasm` imports kept as CompiledWasm modules) and answers over 127.0.0.1.
 * One fresh Miniflare (one fresh isolate) per build.
 */
export async function runWorkerd(project: string, build: Build, { conditions = WORKERD_CONDITIONS, loader = "init" }: BundledRunOptions = {}): Promise<SuiteRun> {
  requireBinary(join(root, "node_modules/workerd/bin/workerd"));
  const bundle = await bundleHarness(project, join(project, "worker.mjs"), conditions, "modules", "es");
  const mf = new Miniflare({
    modulesRoot: project,
    modules: [
      { type: "ESModule", path: join(project, "worker.bundle.mjs"), contents: bundle.code },
      ...bundle.wasm.map(({ name, file }) => ({ type: "CompiledWasm" as const, path: join(project, name), contents: readFileSync(file) })),
    ],
    compatibilityDate: "2025-09-01",
    host: "127.0.0.1",
    port: 0,
  });
  try {
    const url = await mf.ready;
    if (url.hostname !== "127.0.0.1") throw new Error(`miniflare listens on ${url.host}, expected 127.0.0.1`);
    const response = await fetch(new URL(`/?build=${build}&loader=${loader}`, url));
    if (!response.ok) throw new Error(`workerd ${build}: HTTP ${response.status}: ${await response.text()}`);
    const result = (await response.json()) as Omit<SuiteRun, "runtime" | "build" | "version" | "entry">;
    return { ...result, runtime: "workerd", build, loader, version: `workerd ${packageVersion("workerd")} (miniflare ${packageVersion("miniflare")})`, entry: bundle.resolved[PACKAGE] };
  } finally {
    await mf.dispose();
  }
}

// Vercel's edge runtime compiles no wasm from bytes at run time: only modules its bundler
// prepared (`.wasm?module` imports). After the platform step below, this makes every other way fail.
const FORBID_WASM_CODEGEN = `(() => {
  const W = WebAssembly, Module = W.Module, instantiate = W.instantiate;
  const forbid = (name) => function () { throw new EvalError(name + ": dynamic WebAssembly code generation is not allowed in the edge runtime"); };
  W.compile = forbid("WebAssembly.compile");
  W.compileStreaming = forbid("WebAssembly.compileStreaming");
  W.instantiateStreaming = forbid("WebAssembly.instantiateStreaming");
  W.instantiate = function (source, imports) {
    if (!(source instanceof Module)) return forbid("WebAssembly.instantiate(bytes)")();
    return instantiate.call(W, source, imports);
  };
  W.Module = new Proxy(Module, { construct: forbid("new WebAssembly.Module") });
})();`;

/**
 * Vercel's edge runtime (@edge-runtime/vm's EdgeVM): the harness is bundled the way Next.js does
 * for an edge route (the "edge-light" condition; `.wasm?module` imports become modules compiled
 * by the platform), then wasm code generation is forbidden and the bundle runs. One fresh VM per build.
 */
export async function runEdgeRuntime(project: string, build: Build, { conditions = EDGE_CONDITIONS, loader = "init" }: BundledRunOptions = {}): Promise<SuiteRun> {
  const wasmTable = "__edgeWasmModules";
  const bundle = await bundleHarness(project, join(project, "edge.mjs"), conditions, { global: wasmTable }, "iife");
  const vm = new EdgeVM();
  const context = vm.context as unknown as Record<string, unknown>;
  context.__wasmBytes = Object.fromEntries(bundle.wasm.map(({ name, file }) => [name, new Uint8Array(readFileSync(file))]));
  vm.evaluate(`globalThis.${wasmTable} = Object.fromEntries(Object.entries(__wasmBytes).map(([name, bytes]) => [name, new WebAssembly.Module(bytes)])); delete globalThis.__wasmBytes;`);
  vm.evaluate(FORBID_WASM_CODEGEN);
  const probe = vm.evaluate(`(() => { try { new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); return "compiled"; } catch { return "refused"; } })()`);
  if (probe !== "refused") throw new Error(`edge-runtime: compiling wasm from bytes was not refused (${String(probe)})`);
  context.__suiteBuild = build;
  context.__suiteLoader = loader;
  vm.evaluate(bundle.code);
  const result = (await context.__suiteResult) as Omit<SuiteRun, "runtime" | "build" | "version" | "entry">;
  const version = `edge-runtime ${packageVersion("edge-runtime")} (@edge-runtime/vm ${packageVersion("@edge-runtime/vm")}, EdgeRuntime=${String(vm.evaluate("typeof EdgeRuntime === 'string' ? EdgeRuntime : 'missing'"))})`;
  return { ...result, runtime: "edge-runtime", build, loader, version, entry: bundle.resolved[PACKAGE] };
}
