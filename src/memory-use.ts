// memory(): what linear memory holds, like tf.memory().
import { runtime } from "./runtime.js";

/** What `memory()` reports. */
export interface MemoryInfo {
  /** Bytes held by live allocations: tensors, optimizer state and the reused staging block. */
  bytes: number;
  /** Live Tensors (made and not yet disposed or garbage-collected). */
  tensors: number;
  /** Bytes of linear memory free for reuse without growing it. */
  freeBytes: number;
  /** Bytes of the largest free block: the largest tensor (×4 values) that fits without growing. */
  largestFreeBlock: number;
  /** Total size of linear memory (it grows on demand, up to 4 GiB, and never shrinks). */
  linearMemoryBytes: number;
}

/**
 * The state of linear memory: `bytes` allocated (tensors, optimizer state, staging) by
 * `tensors` live tensors and the optimizers, `freeBytes` reusable without growing,
 * `largestFreeBlock`, and `linearMemoryBytes` = bytes + freeBytes + the module's static data.
 * A `tensors` count that grows in a training loop means tensors that are never disposed.
 *
 * @example
 * const before = memory().tensors;
 * trainOneBatch();
 * console.assert(memory().tensors === before, "a tensor leaked: dispose() it or use tidy()");
 */
export function memory(): MemoryInfo {
  const { memory: linear } = runtime("memory");
  const use = linear.use();
  return {
    bytes: use.bytes,
    tensors: linear.liveTensors,
    freeBytes: use.freeBytes,
    largestFreeBlock: use.largestFreeBlock,
    linearMemoryBytes: use.memoryBytes,
  };
}
