// Removes dist/ and the TypeScript emit in build/tsc/, so that a build never ships files left
// from an earlier one.
import { rmSync } from "node:fs";

for (const dir of ["../dist/", "../build/tsc/"]) rmSync(new URL(dir, import.meta.url), { recursive: true, force: true });
