// The memory limit on two threads: bench/assembly/limits.ts built over a shared memory
// (build/limits.threads.wasm), one worker beside the calling thread, each tensor's values cut in
// two halves (at a multiple of 4): the calling thread passes over the front halves, the worker over
// the back ones. The package's threaded rows are measured against it to show what the machine
// gives two threads in the same run (on this host it moved from 1.2× to 2.0× the one-thread pass
// within seconds: bench/experiments.md).
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";

// Shared control words at byte 0: [job sequence, jobs done, items, kind]; the items from byte 64,
// each [ptr0, ptr1, ptr2, ptr3, n] (i32).
const SEQ = 0, DONE = 1, ITEMS = 2, KIND = 3;
const ITEM_BASE = 16; // in i32
const KINDS = { scale: 0, adam: 1 };
const MAX_ITEMS = 1024;

const workerSource = `
const { workerData } = require("node:worker_threads");
const { module, memory } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, 0, ${ITEM_BASE + 5 * MAX_ITEMS});
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${SEQ}, seen);
  seen = Atomics.load(ctl, ${SEQ});
  if (seen < 0) break;
  const items = ctl[${ITEMS}], adam = ctl[${KIND}] === ${KINDS.adam};
  for (let k = 0; k < items; k++) {
    const b = ${ITEM_BASE} + 5 * k, n = ctl[b + 4], h = (n >> 3) << 2, o = h * 4;
    if (adam) ex.adamPass(ctl[b] + o, ctl[b + 1] + o, ctl[b + 2] + o, ctl[b + 3] + o, n - h, 1);
    else ex.scalePass(ctl[b] + o, n - h, 1);
  }
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
  const ctl = new Int32Array(memory.buffer, 0, ITEM_BASE + 5 * MAX_ITEMS);
  const worker = new Worker(workerSource, { eval: true, workerData: { module, memory } });
  worker.unref();
  await new Promise((resolve) => setTimeout(resolve, 100));
  let top = 65536;
  const alloc = (floats) => {
    const bytes = Math.ceil((floats * 4) / 16) * 16;
    const need = top + bytes - memory.buffer.byteLength;
    if (need > 0) memory.grow(Math.ceil(need / 65536));
    const ptr = top;
    top += bytes;
    return ptr;
  };
  const run = (kind, items) => {
    if (items.length > MAX_ITEMS) throw new RangeError(`at most ${MAX_ITEMS} items`);
    items.forEach((item, k) => {
      const b = ITEM_BASE + 5 * k;
      for (let j = 0; j < 4; j++) ctl[b + j] = item[Math.min(j, item.length - 2)];
      ctl[b + 4] = item[item.length - 1];
    });
    ctl[ITEMS] = items.length;
    ctl[KIND] = kind;
    const done = Atomics.load(ctl, DONE);
    Atomics.add(ctl, SEQ, 1);
    Atomics.notify(ctl, SEQ);
    for (const item of items) {
      const n = item[item.length - 1], h = (n >> 3) << 2;
      if (kind === KINDS.adam) exports.adamPass(item[0], item[1], item[2], item[3], h, 1);
      else exports.scalePass(item[0], h, 1);
    }
    while (Atomics.load(ctl, DONE) === done);
  };
  return {
    alloc,
    scalePass: (items) => run(KINDS.scale, items),
    adamPass: (items) => run(KINDS.adam, items),
    close: () => {
      Atomics.store(ctl, SEQ, -1);
      Atomics.notify(ctl, SEQ);
    },
  };
}
