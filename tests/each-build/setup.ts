// Initializes the kernel build this project runs (GC_BUILD = "simd" | "scalar" | "threads") before
// each file. "threads": init({ threads: 2 }) with every call split across the two threads (the
// split threshold set to 0), so every test runs the split kernels; the workers stop after the file.
import { afterAll } from "vitest";
import { backend, init, initSync, shutdown } from "../../src/index.js";
import { setSplitValues } from "../../src/threads/dispatch.js";

const build = process.env.GC_BUILD;
if (build !== "simd" && build !== "scalar" && build !== "threads") throw new Error(`GC_BUILD must be simd, scalar or threads, got ${build}`);
if (build === "threads") {
  await init({ threads: 2 });
  setSplitValues(0);
  afterAll(() => shutdown());
} else initSync({ simd: build === "simd" });
const expected = build === "threads" ? "simd-threads" : build;
if (backend() !== expected) throw new Error(`expected the ${expected} build, got ${backend()}`);
