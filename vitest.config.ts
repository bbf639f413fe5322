import { defineConfig } from "vitest/config";

// tests/each-build/ runs twice, once per kernel build (the setup file initializes it);
// the other tests load the package themselves and run once.
const eachBuild = (build: "simd" | "scalar") => ({
  extends: true as const,
  test: {
    name: build,
    include: ["tests/each-build/**/*.test.ts"],
    setupFiles: ["tests/each-build/setup.ts"],
    env: { GC_BUILD: build },
  },
});

export default defineConfig({
  test: {
    projects: [
      eachBuild("simd"),
      eachBuild("scalar"),
      { extends: true, test: { name: "package", include: ["tests/*.test.ts"], testTimeout: 120_000 } },
    ],
  },
});
