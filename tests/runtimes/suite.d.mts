// Types of suite.mjs (plain JavaScript, so that every runtime runs it as it is).
export interface SuiteResult {
  passed: number;
  failed: number;
  failures: string[];
}
export function checkCount(fixtures: unknown): number;
export function runSuite(gc: unknown, fixtures: unknown, build: "simd" | "scalar", loader?: "init" | "initSync"): Promise<SuiteResult>;
export function resultLine(runtime: string, build: string, result: SuiteResult): string;
export function report(runtime: string, build: string, version: string, entry: string, result: SuiteResult): string;
