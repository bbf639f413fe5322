/**
 * gradient-centralization: Gradient Centralization (Yong et al., 2020, arXiv:2004.01461)
 * computed by WebAssembly SIMD kernels over linear memory.
 *
 * @example
 * import { init, centralize } from "gradient-centralization";
 * await init();
 * centralize(grad, [out, inp]);   // every row of grad now has mean 0
 * @module
 */
export { init, initSync, backend } from "./runtime.js";
export type { Backend, InitOptions, WasmSource } from "./loader.js";
export { Tensor } from "./tensor.js";
export { centralize, centralizeAll, type GradientEntry } from "./centralize.js";
export type { CentralizeOptions, Layout } from "./layout.js";
export { gradientStats, type GradientStats, type StatsOptions } from "./stats.js";
