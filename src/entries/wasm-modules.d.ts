// A `.wasm` file imported as a module: workerd (`import m from "./x.wasm"`) and the edge
// runtime's bundlers (`import m from "./x.wasm?module"`) give its compiled `WebAssembly.Module`.
declare module "*.wasm" {
  const compiled: WebAssembly.Module;
  export default compiled;
}
declare module "*.wasm?module" {
  const compiled: WebAssembly.Module;
  export default compiled;
}
