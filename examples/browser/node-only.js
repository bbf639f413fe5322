// Stands in for Node's built-in modules (fs, path, perf_hooks, os) that TF.js's wasm backend
// bundle imports and uses only when it runs under Node: in the browser it never touches them.
export default {};
