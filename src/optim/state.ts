// Optimizer state: per-parameter float32 buffers in linear memory, and their checkpoint form.
import { copyInto, describe, float32Extent } from "../args.js";
import type { Layout, UnitAxis } from "../layout.js";
import type { LinearMemory } from "../memory.js";

/**
 * A checkpoint buffer: a Float32Array (`stateDict()`), or in the JSON-safe form
 * (`stateDict({ json: true })`) a base64 string of its little-endian float32 bytes, which
 * survives `JSON.stringify`/`JSON.parse` bit for bit (NaN payloads and −0 included).
 */
export type StateBuffer = Float32Array | string;

/** One parameter's state in a checkpoint: its step count and its named buffers. */
export interface ParamStateDict {
  /** Steps taken by this parameter. */
  step: number;
  /**
   * SGD: the layout whose output units the momentum buffer is centered over (`"out-first"`,
   * `"out-last"` or `{ unitAxis: k }` with 0 < k < rank − 1, the plainest name of its axis); absent
   * when that is not known (gc off, or another layout or convOnly, since the buffer was made).
   * gc "update" centers a buffer that is not known to be centered once, before its step.
   */
  centered?: Layout;
  /**
   * Named buffers (`momentumBuffer`; `expAvg`, `expAvgSq`, `maxExpAvgSq`; ... each rule's, as
   * torch.optim names them in camelCase) and scalars (NAdam's `muProduct`); absent until created.
   */
  [buffer: string]: number | StateBuffer | UnitAxis | undefined;
}

/** Encodes float32 values as base64 of their little-endian bytes (wasm memory is little-endian too). */
export function encodeFloat32(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const chunks: string[] = [];
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    chunks.push(String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]));
  }
  return btoa(chunks.join(""));
}

/** Decodes `encodeFloat32`'s output; a RangeError naming `name` when it is not `size` floats. */
export function decodeFloat32(text: string, size: number, caller: string, name: string): Float32Array {
  let chars: string;
  try {
    chars = atob(text);
  } catch {
    throw new TypeError(`${caller}: ${name} is not valid base64`);
  }
  if (chars.length !== size * 4) {
    const held = chars.length % 4 === 0 ? `${chars.length / 4} float32 values` : `${chars.length} bytes, not a whole number of float32 values`;
    throw new RangeError(`${caller}: ${name} holds ${held}, expected ${size} float32 values (${size * 4} bytes)`);
  }
  const bytes = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i++) bytes[i] = chars.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

/**
 * A checkpoint buffer as a copy of its `size` float32 values (validated). A Float32Array is read
 * with the built-in getters and copied at once, so nothing done to it later (memory growth
 * detaching a view of linear memory, an own `length`) reaches the optimizer.
 */
export function readStateBuffer(value: unknown, size: number, caller: string, name: string): Float32Array {
  if (typeof value === "string") return decodeFloat32(value, size, caller, name);
  const extent = float32Extent(value);
  if (extent === undefined) {
    throw new TypeError(
      `${caller}: ${name} must be a Float32Array or a base64 string (stateDict({ json: true })), got ${describe(value)}`,
    );
  }
  if (extent.length !== size) throw new RangeError(`${caller}: ${name} has ${extent.length} values, expected ${size}`);
  const copy = new Float32Array(size);
  copyInto(copy, extent.array);
  return copy;
}

/** The state of one parameter: its step count and float32 buffers of `size` values in linear memory. */
export class ParamState {
  step = 0;
  /** See `ParamStateDict.centered` (kept by SGD; undefined when not known). */
  centered: Layout | undefined = undefined;
  /** Scalar state of rules that keep one (NAdam: `muProduct`), by name. */
  readonly scalars = new Map<string, number>();
  /** Buffer name → address in linear memory. */
  readonly buffers = new Map<string, number>();

  constructor(
    private readonly memory: LinearMemory,
    readonly size: number,
  ) {}

  /** Allocates a zero-filled buffer; returns its address. `caller` is named when memory cannot grow. */
  create(name: string, caller?: string): number {
    const ptr = this.memory.alloc(this.size * 4, caller);
    this.memory.f32.fill(0, ptr >>> 2, (ptr >>> 2) + this.size);
    this.buffers.set(name, ptr);
    return ptr;
  }

  /** Address of a buffer, 0 when it does not exist. */
  address(name: string): number {
    return this.buffers.get(name) ?? 0;
  }

  /** A copy of a buffer's values. */
  read(name: string): Float32Array {
    const ptr = this.buffers.get(name)!;
    return this.memory.f32.slice(ptr >>> 2, (ptr >>> 2) + this.size);
  }

  /** Sets a buffer (creating it when absent) to `values`. */
  write(name: string, values: Float32Array): void {
    const ptr = this.buffers.get(name) ?? this.create(name);
    this.memory.f32.set(values, ptr >>> 2);
  }

  /** Frees one buffer. */
  remove(name: string): void {
    const ptr = this.buffers.get(name);
    if (ptr === undefined) return;
    this.memory.release(ptr);
    this.buffers.delete(name);
  }

  /** Frees every buffer. */
  clear(): void {
    for (const name of [...this.buffers.keys()]) this.remove(name);
  }
}
