// The descriptor table the fused optimizer kernels read (assembly/optim/table.ts): one entry per
// tensor. The offsets here and there must agree; the optimizer tests exercise every field. Fields
// of the newer rules are named in their own files (src/optim/rules/*.ts, assembly/optim/*.ts).

/** Bytes of one entry. */
export const ENTRY_BYTES = 96;

/** Byte offsets of the i32 fields. */
export const I32 = {
  value: 0,
  grad: 4,
  stateA: 8, // SGD momentum buffer | Adam m
  stateB: 12, // Adam v
  stateC: 16, // Adam max v (amsgrad)
  // the tensor as an [outer, units, inner] view (GC off: [1, 1, size])
  outer: 20,
  units: 24,
  flags: 28,
  inner: 80, // after the rules' own fields
} as const;

/** Byte offsets of the f32 fields. */
export const F32 = {
  weightDecay: 32, // L2, added to the gradient
  // SGD
  negLr: 36,
  momentum: 40,
  keep: 44, // 1 − dampening
  // Adam / AdamW
  negStepSize: 36, // −lr / (1 − β1ᵗ)
  beta1: 40,
  oneMinusBeta1: 44,
  beta2: 48,
  oneMinusBeta2: 52,
  eps: 56,
  bc2Sqrt: 60, // √(1 − β2ᵗ)
  decay: 64, // 1 − lr·wd (AdamW), 1 otherwise
  negLrWd: 68, // −lr·wd (AdamW), 0 otherwise
  bc1: 72, // formula "tfjs": 1 − β1ᵗ (negStepSize is then −lr)
  bc2: 76, // formula "tfjs": 1 − β2ᵗ
} as const;

/** Bits of the flags field. */
export const FLAG = {
  gcGradient: 1,
  gcUpdate: 2,
  // 4 was unitsAreColumns: the view's geometry says it now
  hasMomentum: 8,
  nesterov: 16,
  firstStep: 32,
  amsgrad: 64,
  centerBuffer: 128, // SGD gc "update": center the momentum buffer first (it is not known to be centered)
  formulaTfjs: 4096, // Adam, Adagrad, RMSprop, Adamax, Adadelta: tf.train's formula instead of torch.optim's (FORMULA_TFJS)
} as const;

/** Writes into one entry through the memory's Int32Array and Float32Array views. */
export class EntryWriter {
  constructor(
    private readonly i32: Int32Array,
    private readonly f32: Float32Array,
    private readonly at: number,
  ) {}

  int(offset: number, value: number): void {
    this.i32[(this.at + offset) >>> 2] = value;
  }

  float(offset: number, value: number): void {
    this.f32[(this.at + offset) >>> 2] = value;
  }
}

/** Units whose float64 sums the general view keeps at once (assembly/centralize.ts UNIT_CHUNK). */
const UNIT_CHUNK = 4096;

/** Columns the kernel steps at once for column units (assembly/centralize.ts COLUMN_CHUNK). */
const COLUMN_CHUNK = 4096;

/** Bytes of the unit mean's hi and lo, each in 4 lanes, at the start of a step's scratch (GC off too; assembly/optim/table.ts MEAN_SPLATS). */
export const MEAN_SPLATS = 32;

/**
 * Bytes at the start of a step's scratch: the unit mean's hi and lo, then up to 9 of a rule's
 * constants, each in 4 lanes (assembly/optim/table.ts SCRATCH_SPLATS).
 */
export const SCRATCH_SPLATS = MEAN_SPLATS + 9 * 16;

/**
 * Scratch bytes the kernel needs for an `[outer, units, inner]` view: SCRATCH_SPLATS, one row of
 * float32 (16-aligned; `inner` values, or for column units, inner = 1, the part of a row in one
 * chunk of at most COLUMN_CHUNK columns), and for column units a float64 sum plus float32 hi and
 * lo per column of a chunk (at most SCRATCH_SPLATS + 20·4096 bytes in all), for the general view
 * (outer > 1, inner > 1) a float64 sum per unit, at most UNIT_CHUNK of them.
 */
export function scratchBytes(outer: number, units: number, inner: number): number {
  const columns = inner === 1;
  const width = columns ? Math.min(units, COLUMN_CHUNK) : inner;
  const row = SCRATCH_SPLATS + Math.ceil((4 * width) / 16) * 16;
  if (columns) return row + 16 * width;
  return outer === 1 ? row : row + 8 * Math.min(units, UNIT_CHUNK);
}
