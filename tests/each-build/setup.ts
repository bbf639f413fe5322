// Initializes the kernel build this project runs (GC_BUILD = "simd" | "scalar") before each file.
import { backend, initSync } from "../../src/index.js";

const build = process.env.GC_BUILD;
if (build !== "simd" && build !== "scalar") throw new Error(`GC_BUILD must be simd or scalar, got ${build}`);
initSync({ simd: build === "simd" });
if (backend() !== build) throw new Error(`expected the ${build} build, got ${backend()}`);
