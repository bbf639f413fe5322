import { defineConfig } from "vitest/config";

// tests/each-build/ runs three times, once per kernel build (the setup file initializes it;
// "threads" is the SIMD + threads build with init({ threads: 2 }), every call split across both
// threads); the other tests load the package themselves and run once.
const eachBuild = (build: "simd" | "scalar" | "threads") => ({
  extends: true as const,
  test: {
    name: build,
    include: ["tests/each-build/**/*.test.ts"],
    setupFiles: ["tests/each-build/setup.ts"],
    env: { GC_BUILD: build },
    // Every call of the threads project wakes a worker (split threshold 0): the fuzz sample's
    // thousands of small calls take a few times longer there.
    ...(build === "threads" ? { testTimeout: 30_000 } : {}),
  },
});

export default defineConfig({
  test: {
    // In CI, a JSON report too: .ci/run prints its counts as the closing "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: "build/vitest-report.json" }]] : ["default"],
    projects: [
      eachBuild("simd"),
      eachBuild("scalar"),
      eachBuild("threads"),
      { extends: true, test: { name: "package", include: ["tests/*.test.ts", "tests/tfjs/**/*.test.ts"], testTimeout: 120_000 } },
      // The packed package in every runtime: runs after the other projects, because `npm pack`
      // rebuilds build/, src/generated/ and dist/, which they read.
      {
        extends: true,
        test: { name: "runtimes", include: ["tests/runtimes/**/*.test.ts"], testTimeout: 300_000, hookTimeout: 300_000, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
