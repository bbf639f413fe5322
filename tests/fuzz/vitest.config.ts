import { defineConfig } from "vitest/config";

// `npm run fuzz` and `npm run soak`: long seeded runs (not part of `npm test`), once per kernel
// build; FUZZ_SCALE (default 1) multiplies the case counts.
const eachBuild = (build: "simd" | "scalar") => ({
  test: {
    name: build,
    include: [process.env.FUZZ_FILES ?? "tests/fuzz/**/*.fuzz.ts"],
    setupFiles: ["tests/each-build/setup.ts"],
    env: { GC_BUILD: build },
    testTimeout: 0,
    execArgv: ["--expose-gc"],
    hookTimeout: 0,
  },
});

export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    projects: [eachBuild("simd"), eachBuild("scalar")],
    fileParallelism: false,
  },
});
