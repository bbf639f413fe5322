// The artifact users install: `npm pack` (prepack runs the build), installed into a temporary
// project. Package checks (publint, attw, sizes, contents), then the conformance suite in every
// runtime × kernel build. A missing runtime binary fails; the only skips are Node 22 and 24 off
// linux-x64 (their packages ship linux-x64 binaries: tests/runtimes/nodes.ts).
import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkCount } from "./suite.mjs";
import {
  type Build,
  type PackedProject,
  packAndInstall,
  resultLine,
  root,
  runBun,
  runChromium,
  runDeno,
  runEdgeRuntime,
  runNodeCjs,
  PLAIN_CONDITIONS,
  runNodeEsm,
  runWorkerd,
  type SuiteRun,
} from "./runners.js";
import { EXTRA_NODE_MAJORS, installPackagedNodes, packagedNode, packagedNodeUnavailable } from "./nodes.js";

// Budgets with headroom over what was measured when the seven optimizer rules landed (issue 11): the
// SIMD .wasm 12,704 B (8 KiB before them), the gzipped ESM entry 51,405 B: the API, both kernel
// builds as base64, and @assemblyscript/loader (≈4 KB gzipped).
// Issue 12's general unit view and issue 13's single-thread loops (out-last GC summed along rows,
// Adam's fused out-first and branch-free out-last loops) took the SIMD build to 16,500 B: 20 KiB.
// Issue 13 embedded the SIMD + threads build too (its base64 gzips to ~10.5 KB) plus the worker
// pool (~2 KB gzipped): the ESM entry measured 82,610 B gzipped then (85,590 B at its end), hence 96 KiB.
// Then the threads build moved to a chunk of its own that init({ threads }) loads with import()
// (dist/threads-binary.js), and the pool learned to give up on lost workers: the ESM entry
// measured 76,055 B gzipped without the threads build (85,590 B with it), then 80,142 B with the
// lost-worker handling and out-last GC split by rows (main without the chunk: 88,055 B); the chunk
// 12,561 B. Budgets: 82 KiB (~5% headroom: the threads build, ~12 KB gzipped, creeping back into
// the main entry fails here) and 14 KiB for the chunk.
// The rules' common-step loops (a loop per rule for PHASE_STEP with one mean splat: 5–27% faster
// steps, bench/experiments.md) took the SIMD .wasm from 19,110 B to 20,755 B and the threads .wasm
// from 23,776 B to 25,421 B: 22 KiB and 26 KiB (the ESM entry then 81,976 B gzipped here, the chunk 13,836 B);
// SGD's column loop then 21,026 B and 25,692 B; RMSprop's and Adagrad's 21,881 B and 26,538 B (the
// ESM entry 83,404 B gzipped by node:zlib here, the chunk 14,296 B). Adam reading its entry once
// for all the rows of a column chunk (out-last Adam + GC 4–5% faster): 21,994 B and 26,663 B, the
// ESM entry 83,392 B, the chunk 14,454 B: 27 KiB for the threads build and 15 KiB for its chunk.
// Every rule likewise (ruleRow's rows: out-last steps 0–11% faster): 22,436 B and 27,081 B, the ESM
// entry 84,257 B, the chunk 14,846 B: 84 KiB for the ESM entry (the threads build inside it would
// still add ~14 KB).
const SIMD_WASM_LIMIT = 22 * 1024;
const THREADS_WASM_LIMIT = 27 * 1024;
const GZIPPED_ESM_LIMIT = 84 * 1024;
const GZIPPED_THREADS_CHUNK_LIMIT = 15 * 1024;
// The tfjs entry carries its optimizers, both engines, the layer unit axes, serialization and
// the adapter, not the runtime: 32,351 B gzipped when issue 12's parts came together (15,320 B
// with the optimizers and the kernels engine alone).
const GZIPPED_TFJS_LIMIT = 48 * 1024;

let packed: PackedProject;
const installed = () => join(packed.project, "node_modules/gradient-centralization");
const runs: SuiteRun[] = [];
let suiteMs = 0;

beforeAll(async () => {
  [packed] = await Promise.all([packAndInstall(), installPackagedNodes()]);
}, 300_000);

afterAll(() => {
  if (runs.length) {
    console.log(["conformance suite against the packed package:", ...runs.map((r) => `  ${resultLine(r)}   [${r.version}]`), `  ${runs.length} runs in ${(suiteMs / 1000).toFixed(1)} s`].join("\n"));
  }
  packed?.cleanup();
});

describe("the packed package", () => {
  test("publint reports nothing on the tarball", async () => {
    const tarball = readFileSync(packed.tarball);
    const pkg = JSON.parse(readFileSync(join(installed(), "package.json"), "utf8"));
    const { messages } = await publint({ pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) }, level: "suggestion" });
    expect(messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`)).toEqual([]);
  });

  test("@arethetypeswrong/cli finds no problem in the tarball (node16, bundler; the .wasm subpaths carry no types)", async () => {
    const attw = join(root, "node_modules/.bin/attw");
    const args = [packed.tarball, "--profile", "node16", "--exclude-entrypoints", "./gc.simd.wasm", "./gc.scalar.wasm", "./gc.threads.wasm", "--format", "table-flipped"];
    // attw exits with 1 when it finds a problem.
    const result = await promisify(execFile)(attw, args).catch((error: { stdout?: string; message: string }) => {
      throw new Error(`attw found problems:\n${error.stdout ?? error.message}`);
    });
    expect(result.stdout).toContain('"gradient-centralization/tfjs"');
  });

  test(`sizes: the SIMD .wasm is at most ${SIMD_WASM_LIMIT} bytes, the threads .wasm ${THREADS_WASM_LIMIT}, gzipped the ESM entry at most ${GZIPPED_ESM_LIMIT} and its threads chunk ${GZIPPED_THREADS_CHUNK_LIMIT}`, () => {
    const simd = statSync(join(installed(), "dist/gc.simd.wasm")).size;
    const scalar = statSync(join(installed(), "dist/gc.scalar.wasm")).size;
    const esm = readFileSync(join(installed(), "dist/index.js"));
    const gzipped = gzipSync(esm, { level: 9 }).length;
    const chunk = readFileSync(join(installed(), "dist/threads-binary.js"));
    const chunkGzipped = gzipSync(chunk, { level: 9 }).length;
    console.log(
      `sizes: tarball ${statSync(packed.tarball).size} B, gc.simd.wasm ${simd} B, gc.scalar.wasm ${scalar} B, dist/index.js ${esm.length} B (${gzipped} B gzipped), ` +
        `dist/threads-binary.js ${chunk.length} B (${chunkGzipped} B gzipped)`,
    );
    expect(simd).toBeLessThanOrEqual(SIMD_WASM_LIMIT);
    expect(statSync(join(installed(), "dist/gc.threads.wasm")).size).toBeLessThanOrEqual(THREADS_WASM_LIMIT);
    expect(gzipped).toBeLessThanOrEqual(GZIPPED_ESM_LIMIT);
    expect(chunkGzipped).toBeLessThanOrEqual(GZIPPED_THREADS_CHUNK_LIMIT);
  });

  test("the threads build is not in the main entries: they load its chunk with import() / require() only in init({ threads })", () => {
    const threadsBase64 = readFileSync(join(installed(), "dist/gc.threads.wasm")).toString("base64");
    const esm = readFileSync(join(installed(), "dist/index.js"), "utf8");
    const cjs = readFileSync(join(installed(), "dist/cjs/index.js"), "utf8");
    for (const [file, entry] of [["dist/index.js", esm], ["dist/cjs/index.js", cjs]]) expect(entry.includes(threadsBase64.slice(0, 4096)), file).toBe(false);
    expect([...esm.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1])).toEqual(["./threads-binary.js"]);
    expect([...cjs.matchAll(/require\('(\.[^']+)'\)/g)].map((m) => m[1])).toEqual(["./threads-binary.js"]);
    for (const chunk of ["dist/threads-binary.js", "dist/cjs/threads-binary.js"]) {
      expect(readFileSync(join(installed(), chunk), "utf8"), chunk).toContain(`"${threadsBase64}"`);
    }
  });

  test("the ESM entries import no bare specifier (the loader is inside them); the CJS entry requires the loader", () => {
    const imports = (file: string) => [...readFileSync(join(installed(), file), "utf8").matchAll(/^import\b[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    expect(imports("dist/index.js")).toEqual([]);
    expect(imports("dist/workerd.js").sort()).toEqual(["./gc.scalar.wasm", "./gc.simd.wasm"]);
    expect(imports("dist/edge-light.js").sort()).toEqual(["./gc.scalar.wasm?module", "./gc.simd.wasm?module"]);
    expect(readFileSync(join(installed(), "dist/cjs/index.js"), "utf8")).toContain("require('@assemblyscript/loader')");
  });

  test(`the tfjs entry imports the main entry (one runtime, one init) and TF.js, and is at most ${GZIPPED_TFJS_LIMIT} bytes gzipped`, () => {
    const esm = readFileSync(join(installed(), "dist/tfjs.js"));
    const imports = [...esm.toString("utf8").matchAll(/^(?:import|export)\b[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    expect([...new Set(imports)].sort()).toEqual(["@tensorflow/tfjs-core", "gradient-centralization"]);
    const cjs = readFileSync(join(installed(), "dist/cjs/tfjs.js"), "utf8");
    expect([...cjs.matchAll(/require\('([^']+)'\)/g)].map((m) => m[1]).sort()).toEqual(["./index.js", "@tensorflow/tfjs-core"]);
    const gzipped = gzipSync(esm, { level: 9 }).length;
    console.log(`sizes: dist/tfjs.js ${esm.length} B (${gzipped} B gzipped)`);
    expect(gzipped).toBeLessThanOrEqual(GZIPPED_TFJS_LIMIT);
  });

  test("installed, the tfjs entry shares the main entry's runtime (ESM import and CJS require): init() from one is the other's", async () => {
    // TF.js is a peer: linked from this repository into the temporary project
    const tensorflow = join(packed.project, "node_modules/@tensorflow");
    if (!existsSync(tensorflow)) symlinkSync(join(root, "node_modules/@tensorflow"), tensorflow, "dir");
    const esm = [
      'import * as tf from "@tensorflow/tfjs-core";',
      'import "@tensorflow/tfjs-backend-cpu";',
      'import { init, train } from "gradient-centralization/tfjs";',
      'import { backend, memory } from "gradient-centralization";',
      'await tf.setBackend("cpu");',
      "const build = await init();",
      'const v = tf.variable(tf.ones([2, 2]), true, "w");',
      "const optimizer = train.sgd(0.5, { gc: false });",
      "optimizer.applyGradients({ w: tf.ones([2, 2]) });",
      'console.log(JSON.stringify({ build, main: backend(), engine: optimizer.engineKind, w: Array.from(v.dataSync()), tensors: memory().tensors }));',
    ].join("\n");
    const cjs = [
      'const tf = require("@tensorflow/tfjs-core");',
      'require("@tensorflow/tfjs-backend-cpu");',
      'const { initSync, train } = require("gradient-centralization/tfjs");',
      'const { backend, memory } = require("gradient-centralization");',
      'tf.setBackend("cpu").then(() => {',
      "  const build = initSync();",
      '  const v = tf.variable(tf.ones([2, 2]), true, "w");',
      "  const optimizer = train.sgd(0.5, { gc: false });",
      "  optimizer.applyGradients({ w: tf.ones([2, 2]) });",
      '  console.log(JSON.stringify({ build, main: backend(), engine: optimizer.engineKind, w: Array.from(v.dataSync()), tensors: memory().tensors }));',
      "});",
    ].join("\n");
    writeFileSync(join(packed.project, "tfjs-esm.mjs"), esm);
    writeFileSync(join(packed.project, "tfjs-cjs.cjs"), cjs);
    for (const file of ["tfjs-esm.mjs", "tfjs-cjs.cjs"]) {
      const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: packed.project });
      const result = JSON.parse(stdout.trim().split("\n").pop()!);
      expect(result.main, file).toBe(result.build);
      expect(result.engine, file).toBe("kernels");
      expect(result.w, file).toEqual([0.5, 0.5, 0.5, 0.5]);
      expect(result.tensors, file).toBe(2); // the optimizer's master weights and gradient buffer, in the main entry's memory
    }
  });

  test("ships dist/ and package.json only, with the three .wasm builds as their own subpaths", () => {
    const pkg = JSON.parse(readFileSync(join(installed(), "package.json"), "utf8"));
    expect(pkg.files).toEqual(["dist"]);
    // Only the tfjs entry has a side effect a bundler must keep: importing it registers the
    // optimizers with tf.serialization (a bare `import "gradient-centralization/tfjs"` before loading a model).
    expect(pkg.sideEffects).toEqual(["./dist/tfjs.js", "./dist/cjs/tfjs.js"]);
    expect(Object.keys(pkg.dependencies)).toEqual(["@assemblyscript/loader"]);
    for (const build of ["simd", "scalar", "threads"]) {
      const file = join(installed(), pkg.exports[`./gc.${build}.wasm`]);
      expect(WebAssembly.validate(readFileSync(file)), file).toBe(true);
    }
  });
});

type Runner = (project: string, build: Build) => Promise<SuiteRun>;
/** A runtime: its name, how to run the suite in it, the entry file it must load, and for Node 22/24 the version it must report. */
type Runtime = [name: string, runner: Runner, entry: string, version?: RegExp];
const packagedNodes = EXTRA_NODE_MAJORS.flatMap((major): Runtime[] => {
  const node = () => ({ path: packagedNode(major), label: `node${major}` });
  return [
    [`node${major}-esm`, (project, build) => runNodeEsm(project, build, node()), "dist/index.js", new RegExp(`^node ${major}\\.`)],
    [`node${major}-cjs`, (project, build) => runNodeCjs(project, build, node()), "dist/cjs/index.js", new RegExp(`^node ${major}\\.`)],
  ];
});
const runtimes: Runtime[] = [
  ["node-esm", runNodeEsm, "dist/index.js"],
  ["node-cjs", runNodeCjs, "dist/cjs/index.js"],
  ...packagedNodes,
  ["deno", runDeno, "dist/index.js"],
  ["bun", runBun, "dist/index.js"],
  ["chromium", async (project, build) => (await runChromium(project, [build]))[0], "dist/index.js"],
  ["workerd", runWorkerd, "dist/workerd.js"],
  ["edge-runtime", runEdgeRuntime, "dist/edge-light.js"],
];

describe("conformance suite in every runtime, SIMD and scalar", () => {
  const expected = checkCount(JSON.parse(readFileSync(new URL("./fixtures.json", import.meta.url), "utf8")));
  for (const [name, runner, entry, version] of runtimes) {
    const skip = version && packagedNodeUnavailable;
    for (const build of ["simd", "scalar"] as const) {
      test.skipIf(skip)(`${name} ${build}${skip ? ` (skipped: ${skip})` : ""}`, async () => {
        const started = performance.now();
        const run = await runner(packed.project, build);
        suiteMs += performance.now() - started;
        runs.push(run);
        console.log(`${resultLine(run)}   [${run.version}]`);
        expect(run.failures).toEqual([]);
        expect({ runtime: run.runtime, build: run.build, passed: run.passed, failed: run.failed }).toEqual({ runtime: name, build, passed: expected, failed: 0 });
        // The packed package in the temporary project, through the file its exports map gives this runtime.
        expect(run.entry.replace(/^file:\/\//, "")).toBe(join(installed(), entry));
        if (version) expect(run.version).toMatch(version);
      });
    }
  }
});

describe("init({ threads: 2 }) in every runtime: simd-threads where workers share memory, the simd fallback elsewhere", () => {
  const expected = checkCount(JSON.parse(readFileSync(new URL("./fixtures.json", import.meta.url), "utf8")));
  const threaded = new Set(["node-esm", "node-cjs", "deno", "bun", "chromium"]);
  const cases: [string, Runner, string][] = [
    ...runtimes.filter(([name]) => !/^node\d/.test(name)).map(([name, runner]): [string, Runner, string] => [name, runner, threaded.has(name) ? "simd-threads" : "simd"]),
    ["chromium", async (project, build) => (await runChromium(project, [build], { isolated: false }))[0], "simd"],
  ];
  for (const [name, runner, backend] of cases) {
    test(`${name} threads → ${backend}${name === "chromium" && backend === "simd" ? " (page not cross-origin isolated)" : ""}`, async () => {
      const started = performance.now();
      const run = await runner(packed.project, "threads");
      suiteMs += performance.now() - started;
      runs.push(run);
      console.log(`${resultLine(run)} → ${run.backend}   [${run.version}]`);
      expect(run.failures).toEqual([]);
      expect({ runtime: run.runtime, build: run.build, passed: run.passed, failed: run.failed, backend: run.backend }).toEqual({ runtime: name, build: "threads", passed: expected, failed: 0, backend });
    });
  }
});

describe("workerd and edge-runtime with initSync: the imported Modules load synchronously too", () => {
  const expected = checkCount(JSON.parse(readFileSync(new URL("./fixtures.json", import.meta.url), "utf8")));
  const bundled: [string, typeof runWorkerd][] = [["workerd", runWorkerd], ["edge-runtime", runEdgeRuntime]];
  for (const [name, runner] of bundled) {
    for (const build of ["simd", "scalar"] as const) {
      test(`${name} ${build} (initSync)`, async () => {
        const started = performance.now();
        const run = await runner(packed.project, build, { loader: "initSync" });
        suiteMs += performance.now() - started;
        runs.push(run);
        console.log(`${resultLine(run)}   [${run.version}]`);
        expect(run.failures).toEqual([]);
        expect({ runtime: run.runtime, build: run.build, passed: run.passed, failed: run.failed }).toEqual({ runtime: name, build, passed: expected, failed: 0 });
      });
    }
  }
});

describe("control: the default entry (wasm compiled from embedded bytes) where that is forbidden", () => {
  // Without these failing, the workerd and edge-runtime runs above would not show that their entries matter.
  test("workerd refuses it: init() fails, the entry file is dist/index.js", async () => {
    const run = await runWorkerd(packed.project, "simd", { conditions: PLAIN_CONDITIONS });
    const refusal = run.failures.find((f) => f.startsWith("init("));
    console.log(`workerd, default entry: ${refusal?.split("\n")[0]}`);
    expect(run.entry).toBe(join(installed(), "dist/index.js"));
    expect(refusal).toMatch(/code generation|disallowed|not allowed/i);
  });

  test("edge-runtime (wasm code generation forbidden) refuses it: init() fails", async () => {
    const run = await runEdgeRuntime(packed.project, "simd", { conditions: PLAIN_CONDITIONS });
    const refusal = run.failures.find((f) => f.startsWith("init("));
    console.log(`edge-runtime, default entry: ${refusal?.split("\n")[0]}`);
    expect(run.entry).toBe(join(installed(), "dist/index.js"));
    expect(refusal).toMatch(/not allowed in the edge runtime/);
  });
});
