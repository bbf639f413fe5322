export { centralizeRows, centralizeColumns, centralizeView, centralizeMany, columnScratchBytes, viewScratchBytes } from "./centralize";
export { unitStats } from "./stats";
export {
  sgdStep, adamStep, radamStep, nadamStep, adamaxStep, adagradStep, adadeltaStep, rmspropStep, lionStep,
} from "./optim/gc";
export { clipGradNorm, clipGradValue } from "./clip";
export { lookaheadSync } from "./lookahead";

/** First byte of linear memory free for the host's allocator (the module itself never allocates). */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 in the SIMD build, 0 in the scalar build. */
export function isSimdBuild(): bool {
  return ASC_FEATURE_SIMD;
}
