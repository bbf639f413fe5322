// Lookahead (Zhang, Lucas, Hinton, Ba, 2019, "Lookahead Optimizer: k steps forward, 1 step back",
// arXiv:1907.08610) around any optimizer of this package: slow weights in linear memory, pulled
// towards the fast weights every k steps by one kernel call over all parameters.
import { copyArray, describe as kindOf, readOptions, readRecord } from "../args.js";
import { checkOptions, isBoolean } from "../checks.js";
import "../dispose-symbol.js"; // Symbol.dispose where the engine lacks it, before the class below is defined
import { withOperands } from "../operands.js";
import { type Runtime, runtime } from "../runtime.js";
import {
  type Hyperparameters,
  type LearningRate,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  parameterValues,
  type StateDictOptions,
} from "./base.js";
import { encodeFloat32, ParamState, readStateBuffer, type StateBuffer } from "./state.js";

/** Bytes of one entry of the kernel's table (assembly/lookahead.ts): fast ptr, slow ptr, length. */
const ENTRY_BYTES = 12;
const SLOW = "slow";

/** Options of `new Lookahead`. */
export interface LookaheadOptions {
  /** Inner steps between synchronizations, an integer ≥ 1; default 5. */
  k?: number;
  /** How far the slow weights move towards the fast ones, in [0, 1]; default 0.5. */
  alpha?: number;
}

/** A Lookahead checkpoint: plain data, JSON-safe with `stateDict({ json: true })`. */
export interface LookaheadStateDict<H extends Hyperparameters = Hyperparameters> {
  /** `"Lookahead"` or `"Ranger"`. */
  optimizer: string;
  k: number;
  alpha: number;
  /** Inner steps taken through Lookahead (a synchronization follows every k-th). */
  step: number;
  /** The slow weights, one buffer per parameter (group order, then parameter order). */
  slow: StateBuffer[];
  /** The inner optimizer's checkpoint. */
  inner: OptimizerStateDict<H>;
}

const checkK = (value: unknown, caller: string, name: string): number => {
  if (typeof value !== "number") throw new TypeError(`${caller}: ${name} must be a number, got ${kindOf(value)}`);
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${caller}: ${name} must be an integer ≥ 1, got ${value}`);
  return value;
};

const checkAlpha = (value: unknown, caller: string, name: string): number => {
  if (typeof value !== "number") throw new TypeError(`${caller}: ${name} must be a number, got ${kindOf(value)}`);
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${caller}: ${name} must be in [0, 1], got ${value}`);
  return value;
};

/** Validates Lookahead's options (`k`, `alpha`, nothing else) and fills in the defaults. */
export function lookaheadOptions(options: unknown, caller: string, defaults = { k: 5, alpha: 0.5 }): { k: number; alpha: number } {
  // Own enumerable properties, each read once (inherited ones ignored): see args.ts.
  const { k, alpha } = readOptions(options, ["k", "alpha"], caller) as LookaheadOptions;
  return {
    k: k === undefined ? defaults.k : checkK(k, caller, "options.k"),
    alpha: alpha === undefined ? defaults.alpha : checkAlpha(alpha, caller, "options.alpha"),
  };
}

/**
 * Slow weights for the inner optimizer's parameters from index `from` on, copies of their weights
 * now; nothing is kept when memory cannot grow.
 */
function slowWeights<H extends Hyperparameters>(rt: Runtime, inner: Optimizer<H>, from: number, caller: string): ParamState[] {
  const params = parameterValues(inner as unknown as Optimizer<never>, caller).slice(from);
  const slow = params.map(({ length }) => new ParamState(rt.memory, length));
  try {
    slow.forEach((state) => state.create(SLOW, caller));
  } catch (error) {
    slow.forEach((state) => state.clear());
    throw error;
  }
  // The operands carry addresses (in place) or fixed copies (staged): growth cannot stale them.
  params.forEach((op, i) => {
    const heap = rt.memory.f32;
    slow[i].write(SLOW, op.ptr >= 0 ? heap.subarray(op.ptr >>> 2, (op.ptr >>> 2) + op.length) : op.array!);
  });
  return slow;
}

// Slow weights of a Lookahead dropped without dispose() are freed when it is garbage-collected.
const leaked = new FinalizationRegistry<ParamState[]>((states) => states.forEach((s) => s.clear()));
// An optimizer is wrapped at most once: two Lookaheads would both step it.
const wrapped = new WeakSet<object>();

/**
 * Lookahead around any optimizer of this package (SGD, Adam, AdamW, …). The slow weights φ
 * start as the weights θ when it is made; each `step()` is one inner step, and after every
 * k-th: `φ ← φ + α·(θ − φ)`, `θ ← φ` (float32, one kernel call over all parameters).
 * With the inner gc "update", each unit's weight mean stays fixed through the interpolation too.
 * `paramGroups`, `lr` and `zeroGrad` are the inner optimizer's; `stateDict` holds the inner
 * checkpoint, the slow weights and the step count; `dispose` frees both.
 *
 * @example
 * const opt = new Lookahead(new Adam(params, { lr: 1e-3, gc: "gradient" }), { k: 5, alpha: 0.5 });
 * for (const batch of batches) {
 *   computeGradients(batch);
 *   opt.step();           // Adam's step; every 5th also pulls the slow weights halfway
 * }
 */
export class Lookahead<H extends Hyperparameters = Hyperparameters> {
  /** The name in messages and checkpoints; subclasses (Ranger) set their own. */
  protected static readonly optimizerName: string = "Lookahead";
  /** The wrapped optimizer. */
  readonly inner: Optimizer<H>;
  readonly #name: string;
  #slow: ParamState[];
  #runtime: Runtime | undefined;
  #k: number;
  #alpha: number;
  #steps = 0;

  constructor(inner: Optimizer<H>, options?: LookaheadOptions) {
    const name = (new.target as unknown as { optimizerName: string }).optimizerName;
    const caller = `new ${name}`;
    const rt = runtime(caller);
    if (!(inner instanceof Optimizer)) {
      throw new TypeError(`${caller}: inner must be an optimizer of this package (SGD, Adam, AdamW, …), got ${kindOf(inner)}`);
    }
    if (inner.disposed) throw new TypeError(`${caller}: inner has been disposed`);
    if (wrapped.has(inner)) throw new TypeError(`${caller}: inner is already wrapped by a Lookahead`);
    const { k, alpha } = lookaheadOptions(options, caller);
    const slow = slowWeights(rt, inner, 0, caller);
    wrapped.add(inner);
    this.inner = inner;
    this.#name = name;
    this.#slow = slow;
    this.#k = k;
    this.#alpha = alpha;
    this.#runtime = rt;
    leaked.register(this, slow, this);
  }

  /** The inner optimizer's parameter groups (change their hyperparameters between steps). */
  get paramGroups(): readonly ParamGroup<H>[] {
    this.#live("paramGroups");
    return this.inner.paramGroups;
  }

  /**
   * Adds a parameter group to the inner optimizer (its `addParamGroup`), and slow weights for its
   * parameters, starting as their weights now.
   */
  addParamGroup(group: ParamGroupInput<H>): void {
    const rt = this.#live("addParamGroup");
    this.inner.addParamGroup(group);
    const added = slowWeights(rt, this.inner, this.#slow.length, `${this.#name}.addParamGroup`);
    this.#slow = [...this.#slow, ...added];
    leaked.unregister(this);
    leaked.register(this, this.#slow, this);
  }

  /** The inner optimizer's learning rate (a number or a schedule; single group). */
  get lr(): LearningRate {
    this.#live("lr");
    return this.inner.lr;
  }

  set lr(value: LearningRate) {
    this.#live("lr");
    this.inner.lr = value;
  }

  /** Inner steps between synchronizations (an integer ≥ 1); a change applies from the next step. */
  get k(): number {
    return this.#k;
  }

  set k(value: number) {
    this.#k = checkK(value, `${this.#name}.k`, "k");
  }

  /** The interpolation factor α in [0, 1]. */
  get alpha(): number {
    return this.#alpha;
  }

  set alpha(value: number) {
    this.#alpha = checkAlpha(value, `${this.#name}.alpha`, "alpha");
  }

  /** Inner steps taken through this Lookahead. */
  get steps(): number {
    return this.#steps;
  }

  /**
   * One inner step (which checks everything first and changes nothing when it throws); after
   * every k-th, the synchronization `φ ← φ + α·(θ − φ)`, `θ ← φ` over all parameters.
   */
  step(): void;
  step<L>(closure: () => L): L;
  step<L>(closure?: () => L): L | undefined {
    const rt = this.#live("step");
    const caller = `${this.#name}.step`;
    const count = this.inner.paramGroups.reduce((n, group) => n + group.params.length, 0);
    if (count !== this.#slow.length) {
      throw new TypeError(`${caller}: the inner optimizer has ${count} parameters and ${this.#slow.length} slow weights: add groups through ${this.#name}.addParamGroup`);
    }
    const loss: L | undefined = closure === undefined ? (this.inner.step(), undefined) : this.inner.step(closure);
    this.#steps++;
    if (this.#steps % this.#k !== 0) return loss;
    const params = parameterValues(this.inner as Optimizer<never>, caller);
    // The inner step's staging block already fits these operands: this call does not allocate.
    withOperands(rt, params, params.length * ENTRY_BYTES, true, (ptrs, table) => {
      const i32 = rt.memory.i32;
      params.forEach(({ length }, k) => {
        const at = (table >>> 2) + 3 * k;
        i32[at] = ptrs[k];
        i32[at + 1] = this.#slow[k].address(SLOW);
        i32[at + 2] = length;
      });
      rt.kernelsFor(params.reduce((n, { length }) => n + length, 0)).lookaheadSync(table, params.length, this.#alpha);
    }, { caller });
    return loss;
  }

  /** The inner optimizer's `zeroGrad()`. */
  zeroGrad(): void {
    this.#live("zeroGrad");
    this.inner.zeroGrad();
  }

  /**
   * A checkpoint: the inner optimizer's, the slow weights (Float32Array copies, or base64 with
   * `{ json: true }`), the step count, k and alpha.
   *
   * @example
   * const saved = JSON.stringify(opt.stateDict({ json: true }));
   * opt2.loadStateDict(JSON.parse(saved));   // opt2: a Lookahead of the same kind over the same shapes
   */
  stateDict(options: StateDictOptions = {}): LookaheadStateDict<H> {
    this.#live("stateDict");
    const { json = false } = checkOptions<StateDictOptions>(options, { json: isBoolean }, `${this.#name}.stateDict`);
    const inner = this.inner.stateDict({ json });
    const slow = this.#slow.map((state) => {
      const values = state.read(SLOW);
      return json ? encodeFloat32(values) : values;
    });
    return { optimizer: this.#name, k: this.#k, alpha: this.#alpha, step: this.#steps, slow, inner };
  }

  /**
   * Restores a checkpoint from `stateDict()` (either form): the next steps are bit-identical to
   * an uninterrupted run. Everything is checked before anything changes.
   */
  loadStateDict(dict: LookaheadStateDict<H>): void {
    this.#live("loadStateDict");
    const caller = `${this.#name}.loadStateDict`;
    // Read once (own properties; the slow buffers copied), then checked.
    const record = readRecord(dict, caller, "state", false);
    const slowList = copyArray(record.slow, caller, "state.slow");
    const slowBuffers = slowList?.length === this.#slow.length ? slowList.map((value, i) => readStateBuffer(value, this.#slow[i].size, caller, `state.slow[${i}]`)) : undefined;
    dict = record as unknown as LookaheadStateDict<H>;
    if (dict.optimizer !== this.#name) {
      throw new TypeError(`${caller}: state.optimizer is ${typeof dict.optimizer === "string" ? JSON.stringify(dict.optimizer) : kindOf(dict.optimizer)}, expected "${this.#name}"`);
    }
    const k = checkK(dict.k, caller, "state.k");
    const alpha = checkAlpha(dict.alpha, caller, "state.alpha");
    const { step } = dict;
    if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) {
      throw new RangeError(`${caller}: state.step must be a non-negative integer, got ${String(step)}`);
    }
    if (slowBuffers === undefined) throw new RangeError(`${caller}: state.slow must list ${this.#slow.length} buffer(s)`);
    const slow = slowBuffers;
    try {
      this.inner.loadStateDict(dict.inner);
    } catch (error) {
      const Kind = error instanceof RangeError ? RangeError : TypeError;
      throw new Kind(`${caller}: state.inner is refused: ${(error as Error).message}`, { cause: error });
    }
    slow.forEach((values, i) => this.#slow[i].write(SLOW, values));
    this.#steps = step;
    this.#k = k;
    this.#alpha = alpha;
  }

  /** Frees the slow weights and disposes the inner optimizer. Idempotent. */
  dispose(): void {
    if (!this.#runtime) return;
    leaked.unregister(this);
    for (const state of this.#slow) state.clear();
    this.inner.dispose();
    this.#runtime = undefined;
  }

  /** True after `dispose()`. */
  get disposed(): boolean {
    return this.#runtime === undefined;
  }

  /** `dispose()`, for `using opt = new Lookahead(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #live(what: string): Runtime {
    if (!this.#runtime) throw new TypeError(`${this.#name}.${what}: the optimizer has been disposed`);
    return this.#runtime;
  }
}
