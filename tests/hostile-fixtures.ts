// Shared checks of the hostile-input tests: a call must throw the named error and leave every
// byte as it was — the tensors and arrays a test watches, and (unless the test's own hostile code
// allocates) every byte of linear memory.
import { afterEach, expect } from "vitest";
import { Tensor } from "../src/index.js";
import { runtime } from "../src/runtime.js";

type Watched = Tensor | Float32Array;

const copyOf = (x: Watched) => Float32Array.from(x instanceof Tensor ? x.data : x);

/** A copy of every byte of linear memory. */
export function memorySnapshot(): Uint8Array {
  return new Uint8Array(runtime("test").memory.buffer).slice();
}

/** The first offset where linear memory differs from `before` (within its length), or -1. */
export function firstChangedByte(before: Uint8Array): number {
  const now = new Uint8Array(runtime("test").memory.buffer);
  const n = Math.min(before.length, now.length);
  for (let i = 0; i < n; i++) if (before[i] !== now[i]) return i;
  return -1;
}

export interface RefusedOptions {
  /** Compare all of linear memory too (default true; false when the hostile code itself allocates). */
  memory?: boolean;
}

/**
 * Runs `call`; expects an error of `type` whose message matches `message`, every watched tensor
 * and array unchanged, and (by default) no byte of linear memory changed. Returns the error.
 */
export function expectRefused(
  call: () => unknown,
  type: typeof TypeError | typeof RangeError,
  message: RegExp,
  watched: readonly Watched[] = [],
  options: RefusedOptions = {},
): Error {
  const before = watched.map(copyOf);
  const memory = options.memory === false ? undefined : memorySnapshot();
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error, "the call must throw").toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  watched.forEach((x, i) => expect(copyOf(x), `watched[${i}] changed`).toEqual(before[i]));
  if (memory) expect(firstChangedByte(memory), "a byte of linear memory changed").toBe(-1);
  return error as Error;
}

/** Runs `body` with `key` set on Object.prototype (enumerable, as a careless assignment makes it), then removes it. */
export function withPollution<T>(key: string, value: unknown, body: () => T): T {
  const had = Object.getOwnPropertyDescriptor(Object.prototype, key);
  (Object.prototype as Record<string, unknown>)[key] = value;
  try {
    return body();
  } finally {
    if (had) Object.defineProperty(Object.prototype, key, had);
    else delete (Object.prototype as Record<string, unknown>)[key];
  }
}

/**
 * For a test file: `tensor(values, shape)` makes a Tensor that is disposed after the test, as is
 * every Tensor pushed onto `made`.
 */
export function disposedAfterEach(): { made: Tensor[]; tensor: (values: Float32Array, shape: number[]) => Tensor } {
  const made: Tensor[] = [];
  afterEach(() => {
    for (const t of made.splice(0)) t.dispose();
  });
  const tensor = (values: Float32Array, shape: number[]) => {
    const t = Tensor.from(values, shape);
    made.push(t);
    return t;
  };
  return { made, tensor };
}
