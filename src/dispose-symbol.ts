// Symbol.dispose is built in from Node 20.4 and recent browsers; elsewhere it is set here to the
// symbol that TypeScript's and Babel's `using` helpers fall back to, so `using t = new Tensor(...)`
// works there too. Imported (for this effect) by every module whose class has a [Symbol.dispose]
// method, so it runs before those classes are defined.
const symbols = Symbol as { dispose?: symbol };
symbols.dispose ??= Symbol.for("Symbol.dispose");
