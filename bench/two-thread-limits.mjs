// The memory limit on two threads: bench/assembly/limits.ts built over a shared memory
// (build/limits.threads.wasm), one worker beside the calling thread, each tensor's values cut in
// two halves (at a multiple of 4): the calling thread passes over the front halves, the worker over
// the back ones. The package's threaded rows are measured against it to show what the machine
// gives two threads in the same run (on this host it moved from 1.2× to 2.0× the one-thread pass
// within seconds: bench/experiments.md).
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { bumpAllocator } from "./peers.mjs";

// Shared control words at byte 0: [job sequence, jobs done, items, kind]; the items from byte 64,
// each [ptr0, ptr1, ptr2, ptr3, n] (i32; a scale item uses ptr0 only).
const SEQ = 0, DONE = 1, ITEMS = 2, KIND = 3;
const ITEM_BASE = 16; // in i32
const ADAM = 1; // KIND: adamPass over w, g, m, v; else scalePass over ptr0
const MAX_ITEMS = 1024;
const CONTROL_WORDS = ITEM_BASE + 5 * MAX_ITEMS;

/**
 * One thread's half of the job in `ctl` (the front halves, or the back ones) through the limits'
 * exports `ex`. Also the worker's: its source is this function's text, after the constants it reads.
 */
function passHalves(ex, ctl, back) {
  for (let k = 0; k < ctl[ITEMS]; k++) {
    const b = ITEM_BASE + 5 * k, n = ctl[b + 4], h = (n >> 3) << 2;
    const o = back ? h * 4 : 0, count = back ? n - h : h;
    if (ctl[KIND] === ADAM) ex.adamPass(ctl[b] + o, ctl[b + 1] + o, ctl[b + 2] + o, ctl[b + 3] + o, count, 1);
    else ex.scalePass(ctl[b] + o, count, 1);
  }
}

const workerSource = `
const { workerData } = require("node:worker_threads");
const { module, memory } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, 0, ${CONTROL_WORDS});
const ITEMS = ${ITEMS}, KIND = ${KIND}, ITEM_BASE = ${ITEM_BASE}, ADAM = ${ADAM};
${passHalves}
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${SEQ}, seen);
  seen = Atomics.load(ctl, ${SEQ});
  if (seen < 0) break;
  passHalves(ex, ctl, true);
  Atomics.add(ctl, ${DONE}, 1);
}`;

/**
 * Loads the shared-memory build of the limits and starts its worker. Returns { alloc(floats) → ptr,
 * scalePass(items: [ptr, n][]), adamPass(items: [w, g, m, v, n][]), close() }, or undefined where
 * there is no shared memory.
 */
export async function loadTwoThreadLimits(url) {
  if (typeof SharedArrayBuffer !== "function") return undefined;
  const module = new WebAssembly.Module(readFileSync(url));
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 32768, shared: true });
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  const ctl = new Int32Array(memory.buffer, 0, CONTROL_WORDS);
  const worker = new Worker(workerSource, { eval: true, workerData: { module, memory } });
  worker.unref();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const run = (kind, items) => {
    if (items.length > MAX_ITEMS) throw new RangeError(`at most ${MAX_ITEMS} items`);
    items.forEach((item, k) => {
      const ptrs = item.slice(0, -1);
      ctl.set([0, 1, 2, 3].map((j) => ptrs[j] ?? 0), ITEM_BASE + 5 * k);
      ctl[ITEM_BASE + 5 * k + 4] = item.at(-1);
    });
    ctl[ITEMS] = items.length;
    ctl[KIND] = kind;
    const done = Atomics.load(ctl, DONE);
    Atomics.add(ctl, SEQ, 1);
    Atomics.notify(ctl, SEQ);
    passHalves(exports, ctl, false);
    while (Atomics.load(ctl, DONE) === done);
  };
  return {
    alloc: bumpAllocator(memory),
    scalePass: (items) => run(0, items),
    adamPass: (items) => run(ADAM, items),
    close: () => {
      Atomics.store(ctl, SEQ, -1);
      Atomics.notify(ctl, SEQ);
    },
  };
}
