// The descriptor table the fused optimizer kernels read: one ENTRY_BYTES entry per tensor,
// written by src/optim (src/optim/table.ts and each rule's file name the same offsets).
// Fields every rule shares come first; each rule's own f32 fields start at RULE_FIELDS and are
// named in that rule's file (assembly/optim/<rule>.ts).

/** Bytes of one descriptor-table entry. */
export const OPTIMIZER_ENTRY_BYTES = 96;

// i32 fields
export const VALUE = 0; //   address of the weights
export const GRAD = 4; //    address of the gradient
export const STATE_A = 8; // the rule's first state buffer (SGD momentum, Adam m, ...)
export const STATE_B = 12; //second
export const STATE_C = 16; //third
// The tensor as an [outer, units, inner] view (see assembly/centralize.ts): unit u is every
// x[o, u, i]. GC off: [1, 1, size].
export const OUTER = 20;
export const UNITS = 24;
export const FLAGS = 28;
// f32 fields
export const WEIGHT_DECAY = 32; // coupled L2: the direction is d = g + wd·w (0 for decoupled rules)
/** First byte of the rule's own fields (up to INNER). */
export const RULE_FIELDS = 36;
// i32 fields after the rules' own
export const INNER = 80;

/**
 * Bytes of the unit mean's hi and lo, each in 4 lanes, at the start of a step's scratch: a rule's
 * constants splatted into 4 lanes start there (src/optim/table.ts MEAN_SPLATS).
 */
export const MEAN_SPLATS = 32;
/**
 * Bytes at the start of a step's scratch (per thread) before its row buffer: the unit mean's hi
 * and lo, then up to 9 of a rule's constants, each in 4 lanes (src/optim/table.ts SCRATCH_SPLATS).
 */
export const SCRATCH_SPLATS = MEAN_SPLATS + 9 * 16;

// FLAGS bits shared by every rule; bits from RULE_FLAGS up are the rule's own.
export const GC_MODE = 3; // 0 off, 1 "gradient", 2 "update"
export const GC_GRADIENT = 1;
export const GC_UPDATE = 2;
// (bit 4 was "units are columns": the view's geometry says it now)
export const RULE_FLAGS = 8;
/**
 * A rule bit shared by the rules that have a TF.js variant (Adam, Adagrad, RMSprop, Adamax,
 * Adadelta): step by tf.train's formula (where it puts epsilon and the learning rate, which state
 * it reads) instead of torch.optim's. Above every rule's own bits.
 */
export const FORMULA_TFJS = 1 << 12;

// What one pass of a rule over a row does (hi/lo: the unit means to remove, see ruleRow).
/** d = (fl(g + wd·w) − hi) − lo, state advanced, w updated (gc "gradient"; zeros when GC is off). */
export const PHASE_STEP = 0;
/** State advanced, the whole step Δ (decay included) written to tmp: gc "update", units of one row each. */
export const PHASE_ADVANCE = 1;
/**
 * Pass 1 of gc "update" when a unit spans several rows (column units, or the general view): Δ
 * written to tmp, state advanced as far as pass 2 can recompute Δ from it (a rule whose Δ needs
 * an old state value leaves that value for PHASE_APPLY).
 */
export const PHASE_ADVANCE_COLUMNS = 2;
/** Pass 2 of PHASE_ADVANCE_COLUMNS: Δ recomputed, the rest of the state advanced, w += (Δ − hi) − lo. */
export const PHASE_APPLY = 3;
