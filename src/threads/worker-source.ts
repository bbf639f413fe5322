// The worker's script, as text: it needs no file, so it loads the same way in every runtime
// (Node, Deno, Bun: node:worker_threads `new Worker(source, { eval: true })`; browsers: a module
// Worker from a blob: URL). It instantiates the threads build over the shared memory it is sent, says "ready", then
// runs thread `index`'s share of every job the calling thread publishes (src/threads/pool.ts),
// blocked in Atomics.wait between jobs.

/**
 * The control words at the start of the control block (Int32 indices), shared with the worker
 * script below: the job generation, the workers still running the job, the stop request, and a
 * failure flag (a worker's share threw).
 */
export const GENERATION = 0;
export const PENDING = 1;
export const STOP = 2;
export const FAILED = 3;
/** Bytes of the control words; the job follows them (assembly/threads.ts JOB_*). */
export const CONTROL_BYTES = 16;

/** The worker script (no imports, no globals beyond the worker's own). */
export const WORKER_SOURCE = `"use strict";
const run = ({ module, memory, control, index, threads }, reply) => {
  const { runShare } = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const words = new Int32Array(memory.buffer, control, 4);
  let seen = Atomics.load(words, ${GENERATION});
  reply("ready");
  for (;;) {
    Atomics.wait(words, ${GENERATION}, seen);
    const generation = Atomics.load(words, ${GENERATION});
    if (generation === seen) continue;
    seen = generation;
    if (Atomics.load(words, ${STOP}) !== 0) break;
    try {
      runShare(control + ${CONTROL_BYTES}, index, threads);
    } catch {
      Atomics.store(words, ${FAILED}, 1);
    }
    if (Atomics.sub(words, ${PENDING}, 1) === 1) Atomics.notify(words, ${PENDING});
  }
};
// node:worker_threads (Node, Deno, Bun): the script is CommonJS, or ESM when the process runs with
// --input-type=module (workers inherit it), so the module comes from process.getBuiltinModule.
const threads = typeof process === "object" && process !== null && typeof process.getBuiltinModule === "function"
  ? process.getBuiltinModule("node:worker_threads")
  : typeof require === "function" ? require("node:worker_threads") : undefined;
if (threads && threads.parentPort) {
  const { parentPort } = threads;
  parentPort.once("message", (data) => run(data, (message) => parentPort.postMessage(message)));
} else {
  self.onmessage = (event) => {
    self.onmessage = null;
    run(event.data, (message) => self.postMessage(message));
  };
}
`;
