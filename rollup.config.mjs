// Bundles the JavaScript that `tsc -p tsconfig.build.json` emitted into build/tsc/ (TypeScript 7
// has no JS API, so rollup does not compile TypeScript) into the published dist/:
//   dist/index.js        ESM, both kernel builds embedded as base64  (import, browser)
//   dist/threads-binary.js  the SIMD + threads build as base64, a chunk that dist/index.js loads
//                        with import() only in init({ threads })
//   dist/cjs/index.js, dist/cjs/threads-binary.js   the same as CommonJS   (require)
//   dist/workerd.js      ESM importing ./gc.*.wasm as modules       (workerd)
//   dist/edge-light.js   ESM importing ./gc.*.wasm?module           (edge-light)
//   dist/tfjs.js, dist/cjs/tfjs.js                                  (./tfjs, importing the main entry)
//   dist/gc.simd.wasm, dist/gc.scalar.wasm, dist/gc.threads.wasm     (./gc.simd.wasm, ./gc.scalar.wasm, ./gc.threads.wasm)
//   dist/**/*.d.ts, dist/cjs/**/*.d.ts                              (types, ESM and CJS flavours)
// Every entry shares one source: the workerd and edge-light entries are src/index.ts with
// src/entries/{workerd,edge}.ts linked in place of src/binaries.ts (the one module that says where
// the default kernels come from). The ESM entries carry @assemblyscript/loader inside them, so
// `<script type="module" src=".../dist/index.js">` works from any static server without an import
// map; the CJS entries `require` it (the package still depends on it). The TF.js peer stays external.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const emitted = join(root, "build/tsc");
const LOADER = "@assemblyscript/loader";
const external = [LOADER, "@tensorflow/tfjs-core"];
const esmExternal = external.filter((name) => name !== LOADER);
const loaderVersion = JSON.parse(readFileSync(join(root, "node_modules", LOADER, "package.json"), "utf8")).version;

/** Resolves the loader to its ESM file (its "import" export) so rollup inlines it. */
const inlineLoader = {
  name: "inline-loader",
  resolveId(source) {
    return source === LOADER ? fileURLToPath(import.meta.resolve(LOADER)) : null;
  },
};
const loaderNotice = `// Includes ${LOADER} ${loaderVersion} (Apache-2.0, https://github.com/AssemblyScript/assemblyscript/tree/main/lib/loader).`;
const wasmBuilds = ["gc.simd.wasm", "gc.scalar.wasm", "gc.threads.wasm"];

/** Links `replacement` wherever the emitted code imports build/tsc/binaries.js. */
function bundledKernelsFrom(replacement) {
  const original = join(emitted, "binaries.js");
  return {
    name: "bundled-kernels",
    resolveId(source, importer) {
      if (importer && resolve(dirname(importer), source) === original) return join(emitted, replacement);
      return null;
    },
  };
}

/** Keeps `.wasm` imports (with their `?module` suffix, if any) as they are, next to the entry. */
const wasmImportsExternal = {
  name: "wasm-imports-external",
  resolveId(source) {
    const match = /([^/]+\.wasm(\?module)?)$/.exec(source);
    return match ? { id: `./${match[1]}`, external: true } : null;
  },
};

function declarationFiles(dir = emitted) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "entries" || entry.name === "generated" ? [] : declarationFiles(path);
    return entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Emits the .d.ts files next to the bundles (dist/ for ESM, dist/cjs/ for CJS, where a package.json says so). */
function declarations(prefix) {
  return {
    name: "declarations",
    generateBundle() {
      for (const file of declarationFiles()) {
        this.emitFile({ type: "asset", fileName: prefix + relative(emitted, file), source: readFileSync(file) });
      }
      if (prefix === "cjs/") this.emitFile({ type: "asset", fileName: "cjs/package.json", source: '{ "type": "commonjs" }\n' });
    },
  };
}

const wasmFiles = {
  name: "wasm-files",
  generateBundle() {
    for (const name of wasmBuilds) this.emitFile({ type: "asset", fileName: name, source: readFileSync(join(root, "build", name)) });
  },
};

const PACKAGE = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).name;

/**
 * The tfjs entry imports the main entry instead of bundling it, so an app that uses both has one
 * runtime: one init(), one linear memory, one Tensor class. ESM imports it by the package's name
 * (a self-reference: the app's export conditions pick the same file for both, workerd's included);
 * CJS requires "./index.js", the file `require("gradient-centralization")` resolves to, which
 * also works where the package cannot see its own name (dist/cjs/package.json has none).
 */
const mainEntry = (id) => ({
  name: "main-entry",
  resolveId(source, importer) {
    if (importer && resolve(dirname(importer), source) === join(emitted, "index.js")) return { id, external: true };
    return null;
  },
});

// Chunks (only src/generated/threads-binary.ts, imported dynamically) keep their module's name.
const esm = (file) => ({ dir: "dist", entryFileNames: file, chunkFileNames: "[name].js", format: "es", banner: (chunk) => (chunk.isEntry ? loaderNotice : "") });
const cjs = (file) => ({ dir: "dist", entryFileNames: `cjs/${file}`, chunkFileNames: "cjs/[name].js", format: "cjs", exports: "named" });

export default [
  { input: join(emitted, "index.js"), external: esmExternal, output: esm("index.js"), plugins: [inlineLoader, wasmFiles, declarations("")] },
  { input: join(emitted, "index.js"), external, output: cjs("index.js"), plugins: [declarations("cjs/")] },
  {
    input: join(emitted, "index.js"),
    external: esmExternal,
    output: esm("workerd.js"),
    plugins: [inlineLoader, bundledKernelsFrom("entries/workerd.js"), wasmImportsExternal],
  },
  {
    input: join(emitted, "index.js"),
    external: esmExternal,
    output: esm("edge-light.js"),
    plugins: [inlineLoader, bundledKernelsFrom("entries/edge.js"), wasmImportsExternal],
  },
  { input: join(emitted, "tfjs/index.js"), external, output: { ...esm("tfjs.js"), banner: undefined }, plugins: [mainEntry(PACKAGE)] },
  { input: join(emitted, "tfjs/index.js"), external, output: cjs("tfjs.js"), plugins: [mainEntry("./index.js")] },
];
