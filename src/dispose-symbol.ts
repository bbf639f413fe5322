// Symbol.dispose is built in from Node 24 and recent browsers; elsewhere it is set here to the
// symbol that TypeScript's and Babel's `using` helpers fall back to, so `using t = new Tensor(...)`
// works on Node 20 and 22 too. Classes name their method with this value (not `Symbol.dispose`),
// so the polyfill runs before any of them is defined, whatever a bundler leaves out.
const symbols = Symbol as { dispose?: symbol };
symbols.dispose ??= Symbol.for("Symbol.dispose");

/** `Symbol.dispose` (polyfilled where the engine lacks it). */
export const disposeSymbol = symbols.dispose as typeof Symbol.dispose;
