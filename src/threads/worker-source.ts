// The worker's script, as text: it needs no file, so it loads the same way in every runtime
// (Node, Deno, Bun: node:worker_threads `new Worker(source, { eval: true })`; browsers: a module
// Worker from a blob: URL). It instantiates the threads build over the shared memory it is sent, says "ready", then
// runs thread `index`'s share of every job the calling thread publishes (src/threads/pool.ts),
// blocked in Atomics.wait between jobs.

/**
 * The control words at the start of the control block (Int32 indices), shared with the worker
 * script below: the job generation, the workers still running the job, the stop request, a
 * failure flag (a worker's share threw), then one claim word per share (CLAIMS + t for share t).
 */
export const GENERATION = 0;
export const PENDING = 1;
export const STOP = 2;
export const FAILED = 3;
export const CLAIMS = 4;
/**
 * A share's claim word in the current job: OPEN when published, then WORKER_RUNNING when its
 * worker took it and DONE when that worker finished it, or CALLER_RUNNING when the calling thread
 * took it over (its worker never claimed it: src/threads/pool.ts). Each step is one atomic
 * compare-exchange, so exactly one thread runs each share, and the sum over the shares only grows
 * while a job makes progress.
 */
export const OPEN = 0;
export const WORKER_RUNNING = 1;
export const DONE = 2;
export const CALLER_RUNNING = 3;
/** The most threads `init` accepts (more would only queue on the cores); the control block has a claim word for each. */
export const MAX_THREADS = 64;
/** Bytes of the control words (a multiple of 16); the job follows them (assembly/threads.ts JOB_*). */
export const CONTROL_BYTES = (CLAIMS + MAX_THREADS) * 4;
/** Bytes of the job (assembly/threads.ts JOB_*: up to JOB_STALLED, an i32 at 60). */
export const JOB_BYTES = 64;
// The job's fields the package writes and reads (byte offsets in the job, assembly/threads.ts JOB_*):
// src/threads/dispatch.ts writes the kind at 0, the i32 arguments, the done counter, the f64
// argument and the claimed ends; the pool writes waitDone's patience in ms and reads whether a
// thread gave up there.
export const JOB_ARGS = 4;
export const JOB_DONE = 32;
export const JOB_FLOAT = 40;
export const JOB_ENDS = 48;
export const JOB_PATIENCE = 56;
export const JOB_STALLED = 60;

/** The worker script (no imports, no globals beyond the worker's own). */
export const WORKER_SOURCE = `"use strict";
const run = ({ module, memory, control, index }, reply) => {
  const { runShare } = new WebAssembly.Instance(module, { env: { memory, now: () => performance.now() } }).exports;
  const words = new Int32Array(memory.buffer, control, ${CONTROL_BYTES >> 2});
  const claim = ${CLAIMS} + index;
  let seen = Atomics.load(words, ${GENERATION});
  reply("ready");
  for (;;) {
    Atomics.wait(words, ${GENERATION}, seen);
    const generation = Atomics.load(words, ${GENERATION});
    if (generation === seen) continue;
    seen = generation;
    if (Atomics.load(words, ${STOP}) !== 0) break;
    // Taken over by the calling thread (this worker was too late): nothing to do.
    if (Atomics.compareExchange(words, claim, ${OPEN}, ${WORKER_RUNNING}) !== ${OPEN}) continue;
    Atomics.notify(words, claim);
    try {
      runShare(control + ${CONTROL_BYTES}, index);
    } catch {
      Atomics.store(words, ${FAILED}, 1);
    }
    Atomics.store(words, claim, ${DONE});
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
