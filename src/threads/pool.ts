// The worker pool of the threads build: n − 1 workers that instantiated the same module over the
// same shared memory, a control block in that memory (src/threads/worker-source.ts), and `run`:
// publish a job, take thread 0's share on the calling thread, wait for the others.
import { CONTROL_BYTES, FAILED, GENERATION, PENDING, STOP, WORKER_SOURCE } from "./worker-source.js";

/** What a started worker must offer: a message channel and termination (Node's and the web's Worker both do). */
interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
  unref?(): void;
}

/** Starts one worker running WORKER_SOURCE; `onReady`/`onFailure` report its first message or its failure. */
type Spawn = (onReady: () => void, onFailure: (error: unknown) => void) => WorkerLike;

interface NodeWorkerThreads {
  Worker: new (source: string, options: { eval: true }) => WorkerLike & {
    once(event: "message" | "error", listener: (value: unknown) => void): void;
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

/** The started workers and the control block they watch. */
export class ThreadPool {
  /** Threads that run a job: the calling thread and the workers. */
  readonly threads: number;
  /** Address of the job (after the control words). */
  readonly job: number;
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
   * or none answered within `timeoutMs` (those started are terminated).
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, threads: number, timeoutMs = 20_000): Promise<ThreadPool | undefined> {
    const spawn = spawner();
    if (!spawn) return undefined;
    const words = new Int32Array(memory.buffer, control, CONTROL_BYTES >> 2);
    words.fill(0);
    const workers: WorkerLike[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const ready = Array.from({ length: threads - 1 }, (_, k) => new Promise<void>((resolve, reject) => {
        const worker = spawn(resolve, reject);
        workers.push(worker);
        worker.postMessage({ module, memory, control, index: k + 1, threads });
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
    return new ThreadPool(threads, control, words, workers);
  }

  /** Whether the calling thread may block in Atomics.wait (not on a browser's main thread). */
  get mayBlock(): boolean {
    return this.#block;
  }

  /** False once `terminate` ran. */
  get live(): boolean {
    return this.#live;
  }

  /**
   * Runs the job written at `job`: publishes it, runs thread 0's share here (`share`), then waits
   * for the workers (Atomics.wait where this thread may block, else spinning on Atomics.load).
   */
  run(share: () => void): void {
    const words = this.#words;
    Atomics.store(words, PENDING, this.threads - 1);
    Atomics.add(words, GENERATION, 1);
    Atomics.notify(words, GENERATION);
    try {
      share();
    } finally {
      for (let pending = Atomics.load(words, PENDING); pending !== 0; pending = Atomics.load(words, PENDING)) {
        if (this.#block) Atomics.wait(words, PENDING, pending);
      }
    }
    if (Atomics.exchange(words, FAILED, 0) !== 0) throw new Error("gradient-centralization: a worker thread failed to run its share of a kernel");
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
