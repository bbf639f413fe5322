// What a platform's toolchain does with the installed package before its runtime sees it:
// resolve bare specifiers through package.json "exports" with that platform's conditions (as
// wrangler does for workerd, Next.js/Vercel for edge-light, an import map for a browser), and
// handle `.wasm` imports the platform's way. Only the package's own exports map decides which
// file each runtime gets.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { rollup, type Plugin } from "rollup";

type ExportsTarget = string | null | ExportsTarget[] | { [condition: string]: ExportsTarget };

/** Node's conditional-exports matching: the first key that is "default" or an active condition. */
function matchConditions(target: ExportsTarget, conditions: readonly string[]): string | undefined {
  if (target === null) return undefined;
  if (typeof target === "string") return target;
  if (Array.isArray(target)) return target.map((t) => matchConditions(t, conditions)).find((t) => t !== undefined);
  for (const [key, value] of Object.entries(target)) {
    if (key !== "default" && !conditions.includes(key)) continue;
    const found = matchConditions(value, conditions);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The file that `specifier` (a bare package specifier) resolves to in `project`, under `conditions`. */
export function resolvePackageExport(project: string, specifier: string, conditions: readonly string[]): string {
  const parts = specifier.split("/");
  const nameLength = specifier.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, nameLength).join("/");
  const subpath = ["."].concat(parts.slice(nameLength)).join("/");
  const packageDir = join(project, "node_modules", name);
  const { exports } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { exports?: ExportsTarget };
  if (exports === undefined) throw new Error(`${name} has no "exports"`);
  const isSubpathMap = typeof exports === "object" && exports !== null && !Array.isArray(exports) && Object.keys(exports)[0]?.startsWith(".");
  const entry = isSubpathMap ? (exports as Record<string, ExportsTarget>)[subpath] : subpath === "." ? exports : undefined;
  const target = entry === undefined ? undefined : matchConditions(entry, conditions);
  if (target === undefined) throw new Error(`${specifier}: no export matches the conditions ${conditions.join(", ")}`);
  return join(packageDir, target);
}

/** How the bundle treats `.wasm` imports: left as imports of modules, or read from a global table. */
export type WasmImports = "modules" | { global: string };

export interface Bundle {
  code: string;
  /** Every bare specifier and the file it resolved to. */
  resolved: Record<string, string>;
  /** Every `.wasm` the bundle imports: its name in the bundle and its file in the package. */
  wasm: { name: string; file: string }[];
}

export async function bundleHarness(
  project: string,
  input: string,
  conditions: readonly string[],
  wasmImports: WasmImports,
  format: "es" | "iife",
): Promise<Bundle> {
  const resolved: Record<string, string> = {};
  const wasm: Bundle["wasm"] = [];
  const platform: Plugin = {
    name: "platform",
    resolveId(source, importer) {
      const wasmMatch = /^(.*\.wasm)(\?module)?$/.exec(source);
      if (wasmMatch && importer) {
        const file = resolve(dirname(importer), wasmMatch[1]);
        const name = file.slice(file.lastIndexOf("/") + 1);
        if (!wasm.some((w) => w.name === name)) wasm.push({ name, file });
        return wasmImports === "modules" ? { id: `./${name}`, external: true } : `\0wasm:${name}`;
      }
      if (source.startsWith(".") || source.startsWith("/") || source.startsWith("\0")) return null;
      resolved[source] = resolvePackageExport(project, source, conditions);
      return resolved[source];
    },
    load(id) {
      if (!id.startsWith("\0wasm:") || wasmImports === "modules") return null;
      return `export default globalThis[${JSON.stringify(wasmImports.global)}][${JSON.stringify(id.slice(6))}];`;
    },
    transform(code, id) {
      return id.endsWith(".json") ? { code: `export default ${code};`, map: null } : null;
    },
  };
  const build = await rollup({ input, plugins: [platform], onwarn: (warning) => { throw new Error(warning.message); } });
  try {
    // One file, as wrangler's and Next.js's bundlers make it: a dynamic import() (the default
    // entry's threads build, src/binaries.ts) is bundled in, not left as a chunk.
    const { output } = await build.generate({ format, name: "conformance", inlineDynamicImports: true });
    return { code: output[0].code, resolved, wasm };
  } finally {
    await build.close();
  }
}
