// The worker pool of the threads build: n − 1 workers that instantiated the same module over the
// same shared memory, a control block in that memory (src/threads/worker-source.ts), and `run`:
// publish a job, take thread 0's share on the calling thread, wait for the others, and give up on
// a worker that makes no progress (a terminated, crashed or hung worker must not hang the caller).
import {
  CALLER_RUNNING, CLAIMS, CONTROL_BYTES, FAILED, GENERATION, JOB_BYTES, JOB_PATIENCE, JOB_STALLED, OPEN, PENDING, STOP, WORKER_RUNNING, WORKER_SOURCE,
} from "./worker-source.js";

/** What a started worker must offer: a message channel and termination (Node's and the web's Worker both do). */
interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
  unref?(): void;
}

/**
 * Starts one worker running WORKER_SOURCE; `onReady` reports its first message, `onFailure` its
 * failure or its end (an error, or its thread exited: then it will run no more shares).
 */
type Spawn = (onReady: () => void, onFailure: (error: unknown) => void) => WorkerLike;

interface NodeWorkerThreads {
  Worker: new (source: string, options: { eval: true }) => WorkerLike & {
    once(event: "message" | "error" | "exit", listener: (value: unknown) => void): void;
  };
}

/**
 * How this runtime starts a worker, or undefined: node:worker_threads where the runtime has it
 * (Node, Deno, Bun; through process.getBuiltinModule, so bundlers see no import, and its workers
 * can be unref'd so they never keep a process alive), else a web Worker from a blob: URL (browsers).
 */
function spawner(): Spawn | undefined {
  const g = globalThis as {
    Worker?: new (url: string, options: { type: "module" }) => WorkerLike & {
      onmessage: ((event: unknown) => void) | null;
      onerror: ((event: unknown) => void) | null;
    };
    Blob?: typeof Blob;
    URL?: typeof URL;
    process?: { getBuiltinModule?(name: string): unknown };
  };
  let threads: NodeWorkerThreads | undefined;
  try {
    threads = g.process?.getBuiltinModule?.("node:worker_threads") as NodeWorkerThreads | undefined;
  } catch {
    threads = undefined;
  }
  if (typeof threads?.Worker === "function") {
    const NodeWorker = threads.Worker;
    return (onReady, onFailure) => {
      const worker = new NodeWorker(WORKER_SOURCE, { eval: true });
      worker.once("message", () => onReady());
      worker.once("error", onFailure);
      worker.once("exit", onFailure);
      return worker;
    };
  }
  const WebWorker = g.Worker;
  if (typeof WebWorker === "function" && typeof g.Blob === "function" && typeof g.URL?.createObjectURL === "function") {
    return (onReady, onFailure) => {
      const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
      const worker = new WebWorker(url, { type: "module" });
      worker.onmessage = () => {
        worker.onmessage = null;
        URL.revokeObjectURL(url);
        onReady();
      };
      worker.onerror = (event) => {
        URL.revokeObjectURL(url);
        onFailure(event);
      };
      return worker;
    };
  }
  return undefined;
}

/**
 * True when this runtime can run the threads build at all: shared memory that may be posted, and workers.
 *
 * @example
 * threadsAvailable(); // true in Node, Deno, Bun and cross-origin isolated pages
 */
export function threadsAvailable(): boolean {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean };
  // A page that is not cross-origin isolated has no SharedArrayBuffer (or cannot post one).
  return typeof g.SharedArrayBuffer === "function" && g.crossOriginIsolated !== false && spawner() !== undefined;
}

/** May this thread block in Atomics.wait? Not on a browser's main thread (it throws there). */
function canBlock(words: Int32Array): boolean {
  try {
    Atomics.wait(words, STOP, 1, 0); // STOP is 0: returns "not-equal" at once where waiting is allowed
    return true;
  } catch {
    return false;
  }
}

/**
 * How long the calling thread waits for a job without progress (a share claimed or finished)
 * before it gives up on the workers: at least this many milliseconds (and inside a kernel, where
 * the threads of a job wait for each other's chunks: this long without a chunk done)…
 */
export const DEFAULT_MIN_PATIENCE_MS = 5_000;
/** …and at least this many times what the calling thread spent on its own share (a share of a huge tensor takes long). */
export const PATIENCE_PER_SHARE = 20;

const now = () => performance.now();
/** Indices in the pool's words of the job's JOB_PATIENCE and JOB_STALLED. */
const PATIENCE = (CONTROL_BYTES + JOB_PATIENCE) >> 2;
const STALLED = (CONTROL_BYTES + JOB_STALLED) >> 2;
/** The longest single Atomics.wait of the calling thread: it looks at the workers' progress at least this often. */
const SLICE_MS = 50;

/** Hooks for tests only (the package does not export the pool). */
export interface PoolTestHooks {
  /** Runs right after a job is published, before the calling thread's share. */
  afterPublish?(pool: ThreadPool): void;
  /** Wait by spinning, as on a browser's main thread (where Atomics.wait throws), even where blocking is allowed. */
  spin?: boolean;
}

/** The started workers and the control block they watch. */
export class ThreadPool {
  /** Threads that run a job: the calling thread and the workers. */
  readonly threads: number;
  /** Address of the job (after the control words). */
  readonly job: number;
  /** The least time `run` waits without progress before it gives up on the workers (tests shorten it). */
  minPatienceMs = DEFAULT_MIN_PATIENCE_MS;
  /** How many times its own share's time `run` waits at least (tests set 0 for a fixed patience). */
  patiencePerShare = PATIENCE_PER_SHARE;
  /** Why the workers were stopped, when not by `terminate()`: `run` gave up on them, or one of them ended. */
  lost: string | undefined;
  /** See PoolTestHooks. */
  testHooks: PoolTestHooks = {};
  /** The control words, then the job's. */
  #words: Int32Array;
  #workers: WorkerLike[];
  #block: boolean;
  #live = true;

  private constructor(threads: number, control: number, words: Int32Array, workers: WorkerLike[]) {
    this.threads = threads;
    this.job = control + CONTROL_BYTES;
    this.#words = words;
    this.#workers = workers;
    this.#block = canBlock(words);
  }

  /**
   * Starts `threads − 1` workers that instantiate `module` over `memory` and watch the control
   * block at `control`; resolves when every one said "ready", or to undefined when one failed
   * or none answered within `timeoutMs` (those started are terminated). A worker that ends later
   * (its thread exited or failed) stops the pool: later calls run on the calling thread.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, threads: number, timeoutMs = 20_000): Promise<ThreadPool | undefined> {
    const spawn = spawner();
    if (!spawn) return undefined;
    const words = new Int32Array(memory.buffer, control, (CONTROL_BYTES + JOB_BYTES) >> 2);
    words.fill(0);
    const workers: WorkerLike[] = [];
    let pool: ThreadPool | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const ready = Array.from({ length: threads - 1 }, (_, k) => new Promise<void>((resolve, reject) => {
        const worker = spawn(resolve, (error) => {
          if (pool) pool.#lose(`worker thread ${k + 1} of ${threads} ended (${describeEnd(error)})`);
          else reject(error);
        });
        workers.push(worker);
        worker.postMessage({ module, memory, control, index: k + 1 });
      }));
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("workers did not start")), timeoutMs);
      });
      await Promise.race([Promise.all(ready), timeout]);
    } catch {
      for (const worker of workers) worker.terminate();
      return undefined;
    } finally {
      clearTimeout(timer);
    }
    // A process may exit while its workers wait for work (node:worker_threads in Node, Deno, Bun).
    for (const worker of workers) worker.unref?.();
    pool = new ThreadPool(threads, control, words, workers);
    return pool;
  }

  /** Whether the calling thread may block in Atomics.wait (not on a browser's main thread; not with testHooks.spin). */
  get mayBlock(): boolean {
    return this.#block && !this.testHooks.spin;
  }

  /** False once `terminate` ran, or `run` gave up on the workers. */
  get live(): boolean {
    return this.#live;
  }

  /**
   * Runs the job written at `job`, `share(t)` running thread t's part of it (the chunks thread t
   * claims; thread 0 alone claims them all, bit-identical): publishes it, runs share 0 here, then waits
   * for the workers (Atomics.wait where this thread may block, else spinning on Atomics.load).
   * Without the workers (stopped) it runs the whole job here.
   *
   * When the workers make no progress (no share taken or finished) for `minPatienceMs`, or
   * `patiencePerShare` times this thread's own share if longer, it gives up on them: it stops
   * them and runs here what no worker took (the call then completes, bit-identical), and throws
   * an Error if a worker took its share and did not finish it (the call's output may then be
   * incomplete). Either way the pool is stopped and later calls run on this thread. Inside the
   * kernel, where the threads of a job wait for each other's chunks (out-last segments), a thread
   * gives up after `minPatienceMs` without a chunk done (written into the job; chunks are small,
   * so that patience is not scaled) and the call throws that Error as well.
   */
  run(share: (thread: number) => void): void {
    if (!this.#live) return share(0);
    const words = this.#words;
    for (let t = 1; t < this.threads; t++) Atomics.store(words, CLAIMS + t, OPEN);
    words[STALLED] = 0;
    words[PATIENCE] = Math.min(0x7fffffff, Math.max(1, Math.ceil(this.minPatienceMs)));
    Atomics.store(words, PENDING, this.threads - 1);
    Atomics.add(words, GENERATION, 1);
    Atomics.notify(words, GENERATION);
    this.testHooks.afterPublish?.(this);
    const started = now();
    try {
      share(0);
    } finally {
      this.#awaitDone(share, now() - started);
    }
    if (Atomics.exchange(words, FAILED, 0) !== 0) throw new Error("gradient-centralization: a worker thread failed to run its share of a kernel");
  }

  /**
   * Waits until every worker finished its share, or gives up on them (see `run`); at once when a
   * thread of this call already gave up inside the kernel (JOB_STALLED: the share of this thread
   * ended in a trap, incomplete).
   */
  #awaitDone(share: (thread: number) => void, ownMs: number): void {
    if (Atomics.load(this.#words, STALLED) !== 0) return this.#giveUp(share, this.#words[PATIENCE], true);
    const patience = Math.max(this.minPatienceMs, this.patiencePerShare * ownMs);
    const pending = (): [number, number] | undefined => {
      const value = Atomics.load(this.#words, PENDING);
      return value === 0 ? undefined : [PENDING, value];
    };
    if (!this.#wait(pending, patience)) this.#giveUp(share, patience);
  }

  /**
   * Waits until `waitOn()` says nothing more to wait for (undefined; else the control word to
   * wait on and its current value), in slices: Atomics.wait with a timeout, or spinning with a
   * clock check where this thread may not block. False after `patience` ms without progress of
   * the workers (a share taken or finished).
   */
  #wait(waitOn: () => [word: number, value: number] | undefined, patience: number): boolean {
    const words = this.#words;
    const block = this.mayBlock;
    let progress = this.#progress();
    let deadline = now() + patience;
    for (let spins = 0; ; spins++) {
      const target = waitOn();
      if (target === undefined) return true;
      if (block) Atomics.wait(words, target[0], target[1], Math.min(SLICE_MS, Math.max(0, deadline - now())));
      else if ((spins & 1023) !== 0) continue;
      const seen = this.#progress();
      if (seen !== progress) {
        progress = seen;
        deadline = now() + patience;
      } else if (now() >= deadline) {
        return waitOn() === undefined;
      }
    }
  }

  /** Σ of the workers' claim words: grows with every share claimed or finished. */
  #progress(): number {
    let sum = 0;
    for (let t = 1; t < this.threads; t++) sum += Atomics.load(this.#words, CLAIMS + t);
    return sum;
  }

  /**
   * Stops the workers and runs here the shares of the workers that did not take theirs. Throws if
   * a worker took its share and did not finish it, or if a thread of the call gave up inside the
   * kernel (`stalled`: the calling thread's own share is then incomplete).
   */
  #giveUp(share: (thread: number) => void, patience: number, stalled = false): void {
    const words = this.#words;
    const taken: number[] = [];
    for (let t = 1; t < this.threads; t++) {
      if (Atomics.compareExchange(words, CLAIMS + t, OPEN, CALLER_RUNNING) === OPEN) taken.push(t);
    }
    this.terminate();
    const unfinished: number[] = [];
    const started: number[] = [];
    for (let t = 1; t < this.threads; t++) {
      const claim = Atomics.load(words, CLAIMS + t);
      if (claim === WORKER_RUNNING) unfinished.push(t);
      if (claim !== CALLER_RUNNING) started.push(t);
    }
    const workers = (list: number[]) => `worker thread${list.length > 1 ? "s" : ""} ${list.join(", ")} of ${this.threads}`;
    const theirShares = (list: number[]) => (list.length > 1 ? "their shares" : "its share");
    const silent = `no progress for ${Math.round(patience)} ms`;
    const reasons: string[] = [];
    if (taken.length) {
      reasons.push(`${workers(taken)} did not take ${theirShares(taken)} of a call (${silent}): the calling thread ran ${taken.length > 1 ? "them" : "it"}`);
    }
    // Stalled, every worker may have finished since: those that had taken a share are named (a
    // thread waits in the kernel only for chunks a worker claimed, so there is one at least).
    const blamed = stalled && unfinished.length === 0 ? started : unfinished;
    if (blamed.length) reasons.push(`${workers(blamed)} took ${theirShares(blamed)} of a call and did not finish (${silent}${stalled ? " inside a kernel" : ""})`);
    this.lost = reasons.join("; ");
    if (!stalled && unfinished.length === 0) {
      for (const t of taken) share(t);
      return;
    }
    throw new Error(
      `gradient-centralization: ${workers(blamed)} started ${theirShares(blamed)} of this call and made ${silent}: terminated, crashed or hung. ` +
        "The output of this call (the values it writes in place, an optimizer's state) may be incomplete: do not use it. " +
        'The worker threads were stopped and the package fell back to one thread: later calls run on the calling thread (the same results, bit for bit), and backend() says "simd".',
    );
  }

  /** Stops the pool for `reason` (kept in `lost`); later calls run on the calling thread. */
  #lose(reason: string): void {
    if (!this.#live) return;
    this.lost = reason;
    this.terminate();
  }

  /** Terminates worker `worker` (1 … threads − 1) alone, as if it had crashed: for tests. */
  killWorkerForTests(worker: number): void {
    this.#workers[worker - 1]?.terminate();
  }

  /** The claim word of share `t` in the current job (worker-source.ts OPEN … CALLER_RUNNING): for tests. */
  claimForTests(t: number): number {
    return Atomics.load(this.#words, CLAIMS + t);
  }

  /** Stops the workers (they leave their loop, then are terminated); later jobs run on the calling thread. */
  terminate(): void {
    if (!this.#live) return;
    this.#live = false;
    Atomics.store(this.#words, STOP, 1);
    Atomics.add(this.#words, GENERATION, 1);
    Atomics.notify(this.#words, GENERATION);
    for (const worker of this.#workers) worker.terminate();
    this.#workers = [];
  }
}

/** A worker's failure or exit code, in words. */
function describeEnd(error: unknown): string {
  if (typeof error === "number") return `exit code ${error}`;
  if (error instanceof Error) return error.message;
  return String((error as { message?: unknown } | null)?.message ?? error);
}
