// What SGD, Adam and AdamW share: parameters and groups, argument checks, state in linear memory,
// one fused kernel call per step, checkpoints. Each optimizer supplies a `Rule`.
import { copyArray, describe, fillRange, has, type Record0, readKeys, readOptions, readRecord } from "../args.js";
import { checkOptions, isBoolean, type OptionCheck } from "../checks.js";
import "../dispose-symbol.js"; // Symbol.dispose where the engine lacks it, before the class below is defined
import type { OptimizerKernelName } from "../loader.js";
import { copyLayout, isCentralized, type Layout, layoutOrAxisCheck, plainLayout, unitAxisOf, unitView } from "../layout.js";
import { checkDisjoint, type Operand, withOperands } from "../operands.js";
import { type Runtime, runtime } from "../runtime.js";
import type { GcHyperparameters } from "./hyperparameters.js";
import {
  checkParamOperands,
  copyArrays,
  type GroupInput,
  makeSlot,
  type Param,
  type ParamFields,
  type ParamInputs,
  readGroup,
  readGroups,
  readParamFields,
  readParamInputs,
  type Slot,
} from "./params.js";
import { encodeFloat32, type ParamState, type ParamStateDict, readStateBuffer } from "./state.js";
import { ENTRY_BYTES, EntryWriter, FLAG, I32, MEAN_SPLATS, scratchBytes } from "./table.js";

/**
 * A learning rate: a number, or a schedule `step => lr` called once per step with the number of
 * steps taken before it (0 first); see `schedules.ts` for optax's schedules.
 */
export type LearningRate = number | ((step: number) => number);

/** Hyperparameters whose `lr` may be a schedule. */
export type Scheduled<H> = Omit<H, "lr"> & { lr: LearningRate };

/** Options of an optimizer's constructor: any hyperparameter, `lr` a number or a schedule. */
export type OptimizerOptions<H> = Partial<Scheduled<H>>;

/** A parameter group as given to a constructor: its params and hyperparameters overriding the options. */
export type ParamGroupInput<H> = Partial<Scheduled<H>> & { params: readonly Param[] };

/** A live parameter group: change its hyperparameters between steps (schedules); they apply to the next step. */
export type ParamGroup<H> = Scheduled<H> & { readonly params: readonly Param[] };

/** A checkpoint: plain data, JSON-safe with `stateDict({ json: true })`. */
export interface OptimizerStateDict<H> {
  /** `"SGD"`, `"Adam"` or `"AdamW"`: a checkpoint loads only into the same kind of optimizer. */
  optimizer: string;
  /**
   * Steps taken: the step a schedule `lr` is called with next. Optional when loading (older
   * checkpoints): then the largest `state[i].step`.
   */
  step?: number;
  /** One entry per parameter, in group order then parameter order. */
  state: ParamStateDict[];
  /**
   * Hyperparameters of each group and the indices (into `state`) of its parameters. A schedule
   * `lr` is stored as `null` (a function is code, not data): such a checkpoint loads into an
   * optimizer whose group has a schedule too (made with the same one), which it keeps.
   */
  paramGroups: (Omit<H, "lr"> & { lr: number | null; params: number[] })[];
}

/** Options of `stateDict`. */
export interface StateDictOptions {
  /** Buffers as base64 strings of their little-endian float32 bytes instead of Float32Arrays. */
  json?: boolean;
}

/** An optimizer's update rule: its hyperparameters and how it fills the kernel's table. */
export interface Rule<H extends Hyperparameters> {
  name: string;
  kernel: OptimizerKernelName;
  defaults: Partial<H>;
  checks: { [K in keyof H]-?: OptionCheck };
  /** Checks between hyperparameters (after each passed its own check); `prefix` names the group. */
  checkGroup(group: H, caller: string, prefix: string): void;
  /** Every state buffer the rule may create, in checkpoint order. */
  bufferNames: readonly string[];
  /** The buffers a step with these hyperparameters uses. */
  buffersFor(group: H): readonly string[];
  /**
   * Writes the rule's fields of a table entry; returns its flags. `created`: buffers made for this
   * step; `units`: the layout whose output units GC centers this parameter over in this step, in
   * its plainest form for the parameter's shape (`plainLayout`: compare with `sameLayout`);
   * undefined when GC does not apply to it.
   */
  writeEntry(entry: EntryWriter, group: H, state: ParamState, created: readonly string[], units: Layout | undefined): number;
  /** For rules that track it (SGD): `state.centered` after a step that succeeded (same arguments). */
  centeredAfter?(group: H, state: ParamState, created: readonly string[], units: Layout | undefined): Layout | undefined;
  /** Scalar state kept per parameter (NAdam's `muProduct`), in checkpoint order; absent until a step sets it. */
  scalarNames?: readonly string[];
  /** For rules with scalar state: its values after a step that succeeded (same arguments as writeEntry's). */
  scalarsAfter?(group: H, state: ParamState): Record<string, number>;
}

// An optimizer dropped without dispose() still frees its state when it is garbage-collected.
const leaked = new FinalizationRegistry<ParamState[]>((states) => states.forEach((s) => s.clear()));

/** What every optimizer's hyperparameters include. */
export type Hyperparameters = GcHyperparameters & { lr: number };

/** A copy of a group's hyperparameters (arrays such as betas copied, params left out). */
function copyHyperparameters<H extends Hyperparameters>(group: H, keys: readonly string[]): H {
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    const value = (group as unknown as Record<string, unknown>)[key];
    copy[key] = Array.isArray(value) ? [...value] : value;
  }
  return copy as H;
}

/** The name of a step's operand i: operands are each slot's value then its grad. */
function operandName(slots: readonly Slot[], i: number): string {
  return `${slots[i >> 1].name}.${i % 2 === 0 ? "value" : "grad"}`;
}

/** A step writes the values (even operands) and reads the gradients. */
const isValue = (i: number) => i % 2 === 0;

/** A checkpoint's `optimizer` field as a message shows it. */
function describeName(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : describe(value);
}

/** The top-level fields of a checkpoint (`stateDict()`'s). */
const CHECKPOINT_FIELDS = ["optimizer", "step", "state", "paramGroups"];

/** The message of PyTorch's snake_case names: this package's name for the same thing. */
function camelCaseOnly(optimizer: string, snake: string, camel: string): TypeError {
  return new TypeError(`${optimizer}.${snake}: this package uses camelCase names; use ${camel} (PyTorch's ${snake})`);
}

/** The entries of `record` whose value is defined. */
function definedEntries(record: Record0): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const key in record) if (record[key] !== undefined) out[key] = record[key];
  return out;
}

/** How one parameter is stepped: as an [outer, units, inner] view, with GC over the units of `units` (or none). */
interface UnitLayout {
  outer: number;
  units: number;
  inner: number;
  flags: number;
  /** The layout GC centers over, as `plainLayout` names it for this shape; undefined without GC. */
  layout: Layout | undefined;
  scratch: number;
}

/**
 * Package-internal (Lookahead): every parameter's weights as a checked operand (read and checked
 * as `step` does), in group order then parameter order.
 */
export let parameterValues: (optimizer: Optimizer<never>, caller: string) => Operand[];

/** The base of SGD, Adam and AdamW. */
/**
 * Hyperparameters added after checkpoints were already being written: a checkpoint without one
 * loads with this value, the behaviour of the version that wrote it.
 */
const ADDED_LATER: Readonly<Record<string, unknown>> = Object.freeze({ __proto__: null, formula: "torch", lrDecay: 0 });

export abstract class Optimizer<H extends Hyperparameters> {
  static {
    parameterValues = (optimizer, caller) => {
      const rt = runtime(caller);
      const inputs = optimizer.#slots.map((slot) => readParamInputs(slot, caller));
      return optimizer.#slots.map((slot, k) => checkParamOperands(rt, slot, inputs[k], caller)[0]);
    };
  }

  readonly #rule: Rule<H>;
  readonly #slots: Slot[] = [];
  /** Every slot's state, for the finalizer (it must not reach the optimizer). */
  readonly #states: ParamState[] = [];
  /** The constructor's options over the rule's defaults: what `addParamGroup` starts from. */
  readonly #defaults: Record<string, unknown>;
  #groups: readonly ParamGroup<H>[] = Object.freeze([]);
  #runtime: Runtime | undefined;
  /** The rule's hyperparameter names. */
  readonly #hyperKeys: readonly string[];
  /** Counts the changes of groups, state and liveness: a method whose reads ran caller code checks it did not change. */
  #changes = 0;
  /** Steps taken (the step a schedule lr is called with next). */
  #steps = 0;

  protected constructor(rule: Rule<H>, params: unknown, options: unknown) {
    const caller = `new ${rule.name}`;
    const rt = runtime(caller);
    this.#rule = rule;
    const known = Object.keys(rule.checks);
    this.#hyperKeys = known;
    // Read everything the caller gave (their getters, iterators and Proxy traps run only here) …
    const optionRecord = copyArrays(readOptions(options, known, caller, "options", `an option of ${rule.name}`), caller, "options");
    const groups = readGroups(params, known, rule.name, caller);
    const fields = groups.map(({ list, prefix }) =>
      list.map((input, i) => readParamFields(input, `${prefix ? `${prefix}.params` : "params"}[${i}]`, caller)),
    );
    // … then check the copies and build from them.
    // Hyperparameter records have no prototype: a key not set is undefined, whatever Object.prototype holds.
    this.#defaults = Object.assign(Object.create(null) as Record<string, unknown>, rule.defaults, definedEntries(optionRecord));
    const made = groups.map((group, g) => this.#makeGroup(rt, group, fields[g], g, caller));
    if (made.every(({ slots }) => slots.length === 0)) throw new RangeError(`${caller}: params is empty`);
    this.#checkNewSlots(rt, made.flatMap(({ slots }) => slots), made.flatMap(({ inputs }) => inputs), caller);
    this.#commit(made);
    this.#runtime = rt;
    leaked.register(this, this.#states, this);
  }

  /** The parameter groups; their hyperparameters may be changed between steps (schedules). */
  get paramGroups(): readonly ParamGroup<H>[] {
    return this.#groups;
  }

  /**
   * Adds a parameter group, as torch's `add_param_group`: `{ params, ...hyperparameters }`, the
   * hyperparameters not given taken from the constructor's options. Its parameters must not be in
   * another group. Everything is checked before the optimizer changes.
   *
   * @example
   * opt.addParamGroup({ params: [{ value: head, grad: dHead }], lr: 1e-2 });
   */
  addParamGroup(group: ParamGroupInput<H>): void {
    this.#live("addParamGroup");
    const caller = `${this.#rule.name}.addParamGroup`;
    const seen = this.#changes;
    const g = this.#groups.length;
    const input = readGroup(group, Object.keys(this.#rule.checks), this.#rule.name, caller, "group");
    const fields = input.list.map((p, i) => readParamFields(p, `group.params[${i}]`, caller));
    const made = this.#makeGroup(runtime(caller), { ...input, prefix: "group" }, fields, g, caller);
    if (made.slots.length === 0) throw new RangeError(`${caller}: group.params is empty`);
    const existing = this.#slots.map((slot) => readParamInputs(slot, caller));
    const rt = this.#unchanged(seen, "addParamGroup");
    this.#checkNewSlots(rt, [...this.#slots, ...made.slots], [...existing, ...made.inputs], caller);
    this.#commit([made]);
  }

  /** Checks one group read from the caller and makes its slots (nothing is kept yet). */
  #makeGroup(rt: Runtime, { record, list, prefix }: GroupInput, fields: ParamFields[], g: number, caller: string) {
    const rule = this.#rule;
    const hyper = Object.assign(Object.create(null) as Record<string, unknown>, this.#defaults, definedEntries(record)) as unknown as H;
    this.#checkGroup(hyper, caller, prefix ? `${prefix}.` : "options.");
    const listName = prefix ? `${prefix}.params` : "params";
    const slots = fields.map((f, i) => makeSlot(list[i] as object, f, `${listName}[${i}]`, caller, rt, g));
    const inputs = slots.map((slot, i) => readParamInputs(slot, caller, fields[i]));
    this.#checkUnits(hyper, slots, inputs.map((input) => input.gc), caller, `${prefix ? `${prefix}.` : "options."}layout`);
    const params = Object.freeze([...list]) as readonly Param[];
    const live = copyHyperparameters(hyper, Object.keys(rule.checks)) as Record<string, unknown>;
    live.params = params; // for the caller to read: steps use the slots made here, whatever it holds later
    return { group: live as unknown as ParamGroup<H>, slots, inputs };
  }

  /** Checks the operands of `slots` (the same value twice, shared memory); throws before anything is kept. */
  #checkNewSlots(rt: Runtime, slots: readonly Slot[], inputs: readonly ParamInputs[], caller: string): void {
    const seen = new Set<unknown>();
    const operands: Operand[] = [];
    slots.forEach((slot, k) => {
      const value = inputs[k].value.kind === "tensor" ? inputs[k].value.tensor : inputs[k].value.array;
      if (seen.has(value)) throw new TypeError(`${caller}: ${slot.name}.value appears in more than one parameter`);
      seen.add(value);
      operands.push(...checkParamOperands(rt, slot, inputs[k], caller));
    });
    checkDisjoint(caller, operands, (i) => operandName(slots, i), isValue);
  }

  #commit(made: { group: ParamGroup<H>; slots: Slot[] }[]): void {
    this.#changes++;
    for (const { slots } of made) {
      this.#slots.push(...slots);
      this.#states.push(...slots.map((slot) => slot.state));
    }
    this.#groups = Object.freeze([...this.#groups, ...made.map(({ group }) => group)]);
  }

  /** Learning rate (a number or a schedule) of a single-group optimizer (with several groups use `paramGroups[i].lr`). */
  get lr(): LearningRate {
    return this.#singleGroup("lr").lr;
  }

  set lr(value: LearningRate) {
    const group = this.#singleGroup("lr");
    if (typeof value !== "function") this.#rule.checks.lr(value, `${this.#rule.name}.lr`, "lr");
    group.lr = value;
  }

  /**
   * Updates every parameter in place by its rule, with one call into wasm for all of them.
   * With a `closure` (as torch): calls it first (it recomputes the gradients), then steps, and
   * returns what it returned (the loss). Everything is read once, then checked: a bad
   * hyperparameter or operand throws and changes nothing.
   */
  step(): void;
  step<L>(closure: () => L): L;
  step<L>(closure?: () => L): L | undefined {
    this.#live("step");
    const caller = `${this.#rule.name}.step`;
    let loss: L | undefined;
    if (closure !== undefined) {
      if (typeof closure !== "function") throw new TypeError(`${caller}: closure must be a function, got ${describe(closure)}`);
      loss = closure();
      if (loss !== null && (typeof loss === "object" || typeof loss === "function") && typeof (loss as { then?: unknown }).then === "function") {
        throw new TypeError(`${caller}: closure returned a Promise; step() is synchronous: await the closure yourself, then call step()`);
      }
    }
    this.#live("step"); // the closure may have disposed the optimizer
    const seen = this.#changes;
    // Read every group's hyperparameters and every parameter's value, grad and gc once (the
    // caller's getters run only here) …
    // (A schedule lr is caller code too: evaluated here, into the hyperparameters of this step.)
    const hypers = this.#groups.map((group, g) => this.#scheduled(this.#readGroupNow(group, caller, `paramGroups[${g}]`), g, caller));
    const inputs = this.#slots.map((slot) => readParamInputs(slot, caller));
    const rt = this.#unchanged(seen, "step");
    // … then check those copies against memory as it is now; from here on no caller code runs.
    hypers.forEach((hyper, g) => this.#checkGroup(hyper, caller, `paramGroups[${g}].`));
    const operands = this.#slots.flatMap((slot, k) => checkParamOperands(rt, slot, inputs[k], caller));
    checkDisjoint(caller, operands, (i) => operandName(this.#slots, i), isValue);
    const created = this.#slots.map((slot) => this.#rule.buffersFor(hypers[slot.group]).filter((name) => !slot.state.buffers.has(name)));
    const layouts = this.#slots.map((slot, k) => this.#unitLayout(slot, hypers[slot.group], inputs[k].gc, caller, `paramGroups[${slot.group}].layout`));
    // The operands carry the addresses recorded when they were checked: the state buffers made
    // next (a first step) may grow memory, which detaches a Float32Array view of linear memory
    // given as a value or gradient. A step that fails after making them (memory that cannot grow)
    // frees them again, so nothing has changed and the next step is still their first (SGD: buf = d).
    try {
      this.#run(rt, operands, hypers, created, layouts, caller);
    } catch (error) {
      this.#slots.forEach((slot, k) => created[k].forEach((name) => slot.state.remove(name)));
      throw error;
    }
    this.#slots.forEach((slot, k) => {
      const { layout } = layouts[k];
      slot.state.centered = this.#rule.centeredAfter?.(hypers[slot.group], slot.state, created[k], layout);
      const scalars = this.#rule.scalarsAfter?.(hypers[slot.group], slot.state) ?? {};
      for (const [name, value] of Object.entries(scalars)) slot.state.scalars.set(name, value);
      slot.state.step++;
    });
    this.#changes++;
    this.#steps++;
    return loss;
  }

  /**
   * A group's hyperparameters for this step: a schedule lr evaluated at the step count, its
   * result checked as a number lr is (in float32 too); the rest as read.
   */
  #scheduled(hyper: H, g: number, caller: string): H {
    const lr = (hyper as unknown as { lr: unknown }).lr;
    if (typeof lr !== "function") return hyper;
    const value: unknown = lr(this.#steps);
    const name = `paramGroups[${g}].lr(${this.#steps})`;
    this.#rule.checks.lr(value, caller, name); // as a number lr: finite and ≥ 0, in float32 too
    return Object.assign(Object.create(null) as Record<string, unknown>, hyper, { lr: value }) as unknown as H;
  }

  /** A live group's hyperparameters read once into an object with no prototype (own enumerable properties; arrays copied). */
  #readGroupNow(group: ParamGroup<H>, caller: string, name: string): H {
    return copyArrays(readKeys(group, this.#hyperKeys, caller, name), caller, name) as unknown as H;
  }

  #run(rt: Runtime, operands: Operand[], hypers: readonly H[], created: string[][], layouts: UnitLayout[], caller: string): void {
    const { memory } = rt;
    const kernels = rt.kernelsFor(layouts.reduce((n, l) => n + l.outer * l.units * l.inner, 0));
    // Per thread (the threads build splits a step across rt.threads threads, each with its own scratch).
    const threadScratch = Math.ceil(Math.max(MEAN_SPLATS, ...layouts.map((l) => l.scratch)) / 16) * 16;
    const kernelScratch = threadScratch * rt.threads;
    const tableBytes = this.#slots.length * ENTRY_BYTES;
    const allocate = () => this.#slots.forEach((slot, k) => created[k].forEach((name) => slot.state.create(name, caller)));
    // Values are written back (when staged); gradients are only read.
    const writeBack = operands.map((_, i) => i % 2 === 0);
    withOperands(rt, operands, tableBytes + kernelScratch, writeBack, (ptrs, table) => {
      const i32 = memory.i32;
      const f32 = memory.f32;
      this.#slots.forEach((slot, k) => {
        const entry = new EntryWriter(i32, f32, table + k * ENTRY_BYTES);
        const { outer, units, inner, flags, layout } = layouts[k];
        entry.int(I32.value, ptrs[2 * k]);
        entry.int(I32.grad, ptrs[2 * k + 1]);
        entry.int(I32.outer, outer);
        entry.int(I32.units, units);
        entry.int(I32.inner, inner);
        const ruleFlags = this.#rule.writeEntry(entry, hypers[slot.group], slot.state, created[k], layout);
        entry.int(I32.flags, flags | ruleFlags);
      });
      kernels[this.#rule.kernel](table, this.#slots.length, table + tableBytes, threadScratch);
    }, { caller, allocate });
  }

  /**
   * The view a parameter is stepped as, its GC flags and layout, and the scratch it needs. A
   * `{ unitAxis }` out of range for a parameter GC applies to is a RangeError naming `name`.
   */
  #unitLayout(slot: Slot, group: H, paramGc: boolean | undefined, caller: string, name: string): UnitLayout {
    const gc = group.gc !== false && paramGc !== false && isCentralized(slot.shape, group.convOnly);
    if (!gc) return { outer: 1, units: 1, inner: slot.size, flags: 0, layout: undefined, scratch: 0 };
    const axis = unitAxisOf(slot.shape, group.layout, caller, name, slot.name);
    const { outer, units, inner } = unitView(slot.shape, group.layout, caller, name, slot.name);
    const flags = group.gc === "update" ? FLAG.gcUpdate : FLAG.gcGradient;
    const layout = plainLayout(slot.shape, axis);
    // An empty parameter is skipped by the kernel (a dim 0): no scratch for its width.
    if (slot.size === 0) return { outer: 0, units: 0, inner: 0, flags, layout, scratch: 0 };
    return { outer, units, inner, flags, layout, scratch: scratchBytes(outer, units, inner) };
  }

  /** Checks a group's layout against the rank of each of its parameters GC applies to (parameters' own `gc` as given). */
  #checkUnits(group: H, slots: readonly Slot[], paramGc: readonly (boolean | undefined)[], caller: string, name: string): void {
    slots.forEach((slot, k) => {
      if (group.gc !== false && paramGc[k] !== false && isCentralized(slot.shape, group.convOnly)) {
        unitAxisOf(slot.shape, group.layout, caller, name, slot.name);
      }
    });
  }

  /** Sets every gradient to zero (checked first: a disposed gradient Tensor throws before any is zeroed). */
  zeroGrad(): void {
    this.#live("zeroGrad");
    const caller = `${this.#rule.name}.zeroGrad`;
    const seen = this.#changes;
    const inputs = this.#slots.map((slot) => readParamInputs(slot, caller));
    const rt = this.#unchanged(seen, "zeroGrad");
    const grads = this.#slots.map((slot, k) => checkParamOperands(rt, slot, inputs[k], caller)[1]);
    const heap = rt.memory.f32;
    for (const grad of grads) {
      if (grad.ptr >= 0) fillRange(heap, 0, grad.ptr >>> 2, (grad.ptr >>> 2) + grad.length);
      else fillRange(grad.array!, 0, 0, grad.length);
    }
  }

  /**
   * A checkpoint of the state and hyperparameters: step counts, buffers as Float32Array copies
   * (or base64 strings with `{ json: true }`), each group's hyperparameters and parameter indices.
   *
   * @example
   * localStorage.setItem("opt", JSON.stringify(opt.stateDict({ json: true })));
   * // later, with an optimizer of the same kind over the same parameter shapes:
   * opt.loadStateDict(JSON.parse(localStorage.getItem("opt")));
   */
  stateDict(options: StateDictOptions = {}): OptimizerStateDict<H> {
    this.#live("stateDict");
    const caller = `${this.#rule.name}.stateDict`;
    const seen = this.#changes;
    const { json = false } = checkOptions<StateDictOptions>(options, { json: isBoolean }, caller);
    const hypers = this.#groups.map((group, g) => this.#readGroupNow(group, caller, `paramGroups[${g}]`));
    this.#unchanged(seen, "stateDict");
    const state = this.#slots.map((slot) => {
      const entry: ParamStateDict = { step: slot.state.step };
      for (const name of this.#rule.bufferNames) {
        if (!slot.state.buffers.has(name)) continue;
        const values = slot.state.read(name);
        entry[name] = json ? encodeFloat32(values) : values;
      }
      const { centered } = slot.state;
      if (centered !== undefined) entry.centered = typeof centered === "string" ? centered : { unitAxis: centered.unitAxis };
      for (const [name, value] of slot.state.scalars) entry[name] = value;
      return entry;
    });
    let next = 0;
    const paramGroups = hypers.map((hyper, g) => {
      const lr = typeof hyper.lr === "function" ? null : hyper.lr;
      // A { unitAxis } layout as a plain object (the copy read here has no prototype and is frozen).
      const { layout } = hyper;
      const plain = typeof layout === "object" ? { layout: { unitAxis: layout.unitAxis } } : {};
      return { ...hyper, lr, ...plain, params: this.#groups[g].params.map(() => next++) };
    });
    // step last: in the JSON form the first "step" stays a parameter's (tests/fuzz/hostile.ts patches it)
    return { optimizer: this.#rule.name, state, paramGroups, step: this.#steps };
  }

  /**
   * Restores a checkpoint from `stateDict()` (either form) taken from an optimizer of the same
   * kind over parameters of the same shapes: the next steps are bit-identical to an
   * uninterrupted run. Everything is checked before anything is changed.
   */
  loadStateDict(dict: OptimizerStateDict<H>): void {
    this.#live("loadStateDict");
    const caller = `${this.#rule.name}.loadStateDict`;
    const rule = this.#rule;
    const seen = this.#changes;
    // Read the checkpoint once (own properties; arrays and buffers copied), then check the copies.
    const top = readRecord(dict, caller, "state", false);
    // Like every record here, an unknown key is refused (a "__proto__" from JSON.parse included).
    for (const key in top) {
      if (!CHECKPOINT_FIELDS.includes(key)) {
        throw new TypeError(`${caller}: state.${key} is not a field of a checkpoint (known: ${CHECKPOINT_FIELDS.join(", ")})`);
      }
    }
    if (top.optimizer !== rule.name) {
      throw new TypeError(`${caller}: state.optimizer is ${describeName(top.optimizer)}, expected "${rule.name}"`);
    }
    const paramGroups = copyArray(top.paramGroups, caller, "state.paramGroups");
    const state = copyArray(top.state, caller, "state.state");
    if (paramGroups === undefined || paramGroups.length !== this.#groups.length) {
      throw new RangeError(`${caller}: state.paramGroups must list ${this.#groups.length} group(s)`);
    }
    if (state === undefined || state.length !== this.#slots.length) {
      throw new RangeError(`${caller}: state.state must list ${this.#slots.length} parameter(s)`);
    }
    const groupRecords = paramGroups.map((group, g) => {
      const record = readRecord(group, caller, `state.paramGroups[${g}]`, false);
      const indices = copyArray(record.params, caller, `state.paramGroups[${g}].params`);
      delete record.params;
      return { record: copyArrays(record, caller, `state.paramGroups[${g}]`), indices };
    });
    const entryRecords = state.map((entry, k) => {
      const name = `state.state[${k}]`;
      const record = readRecord(entry, caller, name, false);
      for (const key of rule.bufferNames) {
        if (has(record, key)) record[key] = readStateBuffer(record[key], this.#slots[k].size, caller, `${name}.${key}`);
      }
      if (has(record, "centered")) record.centered = copyLayout(record.centered, caller, `${name}.centered`);
      return record;
    });
    // Each parameter's own gc (read once, as a step reads it): the layout must fit the parameters GC applies to.
    const paramGc = this.#slots.map((slot) => readKeys(slot.param, ["gc"], caller, slot.name).gc as boolean | undefined);
    this.#unchanged(seen, "loadStateDict");
    let next = 0;
    const hypers = groupRecords.map(({ record, indices }, g) => {
      const prefix = `state.paramGroups[${g}]`;
      const hyper = Object.create(null) as Record<string, unknown>;
      for (const key of Object.keys(rule.checks)) {
        if (has(record, key)) continue;
        if (!Object.hasOwn(ADDED_LATER, key)) throw new TypeError(`${caller}: ${prefix}.${key} is missing`);
        record[key] = ADDED_LATER[key];
      }
      for (const key in record) {
        if (!Object.hasOwn(rule.checks, key)) throw new TypeError(`${caller}: ${prefix}.${key} is not a hyperparameter of ${rule.name}`);
        const value = record[key];
        if (key === "lr" && value === null) {
          // A schedule's checkpoint: the group keeps its own schedule, which it must have.
          const current = Object.getOwnPropertyDescriptor(this.#groups[g], "lr")?.value;
          if (typeof current !== "function") {
            throw new TypeError(`${caller}: ${prefix}.lr is null (a schedule), but paramGroups[${g}].lr is not a function: make the optimizer with that schedule`);
          }
          hyper.lr = current;
          continue;
        }
        (rule.checks as Record<string, OptionCheck>)[key](value, caller, `${prefix}.${key}`);
        hyper[key] = value;
      }
      this.#checkGroup(hyper as H, caller, `${prefix}.`);
      const groupSlots = this.#slots.filter((slot) => slot.group === g);
      this.#checkUnits(hyper as H, groupSlots, groupSlots.map((slot) => paramGc[this.#slots.indexOf(slot)]), caller, `${prefix}.layout`);
      const expected = this.#groups[g].params.map(() => next++);
      if (indices === undefined || indices.length !== expected.length || indices.some((v, i) => v !== expected[i])) {
        throw new RangeError(`${caller}: ${prefix}.params must be [${expected.join(", ")}]`);
      }
      for (const key in hyper) {
        const own = Object.getOwnPropertyDescriptor(this.#groups[g], key);
        if (own !== undefined && !own.configurable) throw new TypeError(`${caller}: paramGroups[${g}].${key} was made non-configurable; it cannot be restored`);
      }
      return hyper as H;
    });
    const buffers = entryRecords.map((entry, k) => {
      const name = `state.state[${k}]`;
      const { step } = entry;
      if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) {
        throw new RangeError(`${caller}: ${name}.step must be a non-negative integer, got ${describe(step)}`);
      }
      const values = new Map<string, Float32Array>();
      let centered: Layout | undefined;
      const scalars = new Map<string, number>();
      for (const key in entry) {
        const value = entry[key];
        if (key === "step") continue;
        if (key === "centered" && rule.centeredAfter) {
          layoutOrAxisCheck(value, caller, `${name}.centered`);
          const shape = this.#slots[k].shape;
          centered = plainLayout(shape, unitAxisOf(shape, value as Layout, caller, `${name}.centered`, this.#slots[k].name));
          continue;
        }
        if (rule.scalarNames?.includes(key)) {
          if (typeof value !== "number") throw new TypeError(`${caller}: ${name}.${key} must be a number, got ${describe(value)}`);
          if (!Number.isFinite(value)) throw new RangeError(`${caller}: ${name}.${key} must be finite, got ${value}`);
          scalars.set(key, value);
          continue;
        }
        if (!rule.bufferNames.includes(key)) throw new TypeError(`${caller}: ${name}.${key} is not a state buffer of ${rule.name}`);
        values.set(key, value as Float32Array);
      }
      return { step, values, centered, scalars };
    });
    const steps = top.step === undefined ? Math.max(0, ...buffers.map((b) => b.step)) : top.step;
    if (typeof steps !== "number" || !Number.isSafeInteger(steps) || steps < 0) {
      throw new RangeError(`${caller}: state.step must be a non-negative integer, got ${describe(steps)}`);
    }
    // Staged: nothing above changed anything (checkpoint buffers are copies, so growth cannot
    // detach them). Every missing buffer is allocated first; only then is anything written, by
    // steps that cannot fail. A failed allocation leaves lr, steps and buffers as they were.
    const made: [ParamState, string][] = [];
    try {
      this.#slots.forEach((slot, k) => {
        for (const name of buffers[k].values.keys()) {
          if (slot.state.buffers.has(name)) continue;
          slot.state.create(name, caller);
          made.push([slot.state, name]);
        }
      });
    } catch (error) {
      for (const [state, name] of made) state.remove(name);
      throw error;
    }
    hypers.forEach((hyper, g) => {
      const group = this.#groups[g];
      for (const key in hyper) {
        Object.defineProperty(group, key, { value: (hyper as Record<string, unknown>)[key], writable: true, enumerable: true, configurable: true });
      }
    });
    this.#changes++;
    this.#steps = steps;
    this.#slots.forEach((slot, k) => {
      const { step, values, centered, scalars } = buffers[k];
      slot.state.step = step;
      slot.state.centered = centered;
      slot.state.scalars.clear();
      for (const [name, value] of scalars) slot.state.scalars.set(name, value);
      for (const name of rule.bufferNames) {
        const v = values.get(name);
        if (v) slot.state.write(name, v);
        else slot.state.remove(name);
      }
    });
  }

  /** Frees the state in linear memory; the optimizer can no longer be used. Idempotent. */
  dispose(): void {
    if (!this.#runtime) return;
    leaked.unregister(this);
    this.#changes++;
    for (const slot of this.#slots) slot.state.clear();
    this.#runtime = undefined;
  }

  /** True after `dispose()`. */
  get disposed(): boolean {
    return this.#runtime === undefined;
  }

  /** `dispose()`, for `using opt = new Adam(...)`: the state is freed at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #checkGroup(group: H, caller: string, prefix: string): void {
    const checks = this.#rule.checks as Record<string, OptionCheck>;
    for (const key of Object.keys(checks)) {
      const value = (group as Record<string, unknown>)[key];
      if (value === undefined) throw new TypeError(`${caller}: ${prefix}${key} is required`);
      if (key === "lr" && typeof value === "function") continue; // a schedule: its values are checked at each step
      checks[key](value, caller, `${prefix}${key}`);
    }
    this.#rule.checkGroup(group, caller, prefix);
  }

  /** After a method read the caller's values: the runtime, or a TypeError when the reads disposed or changed the optimizer. */
  #unchanged(seen: number, what: string): Runtime {
    const rt = this.#live(what);
    if (this.#changes !== seen) {
      throw new TypeError(
        `${this.#rule.name}.${what}: the optimizer was changed while its arguments were read (a getter or iterator called one of its methods); nothing was done`,
      );
    }
    return rt;
  }

  #singleGroup(what: string): ParamGroup<H> {
    this.#live(what);
    if (this.#groups.length !== 1) {
      throw new TypeError(
        `${this.#rule.name}.${what}: the optimizer has ${this.#groups.length} parameter groups; use paramGroups[i].${what}`,
      );
    }
    return this.#groups[0];
  }

  // PyTorch's snake_case names: each throws a TypeError naming this package's method (not aliases,
  // so that code ported from PyTorch fails loudly where a torch-only assumption might follow).

  /** @deprecated PyTorch's name; throws a TypeError: use `zeroGrad()`. */
  zero_grad(): never {
    throw camelCaseOnly(this.#rule.name, "zero_grad", "zeroGrad()");
  }

  /** @deprecated PyTorch's name; throws a TypeError: use `stateDict()`. */
  state_dict(): never {
    throw camelCaseOnly(this.#rule.name, "state_dict", "stateDict()");
  }

  /** @deprecated PyTorch's name; throws a TypeError: use `loadStateDict(state)`. */
  load_state_dict(_state?: unknown): never {
    throw camelCaseOnly(this.#rule.name, "load_state_dict", "loadStateDict(state)");
  }

  /** @deprecated PyTorch's name; throws a TypeError: use `addParamGroup(group)`. */
  add_param_group(_group?: unknown): never {
    throw camelCaseOnly(this.#rule.name, "add_param_group", "addParamGroup(group)");
  }

  /** @deprecated PyTorch's name; reading it throws a TypeError: use `paramGroups`. */
  get param_groups(): never {
    throw camelCaseOnly(this.#rule.name, "param_groups", "paramGroups");
  }

  #live(what: string): Runtime {
    if (!this.#runtime) throw new TypeError(`${this.#rule.name}.${what}: the optimizer has been disposed`);
    return this.#runtime;
  }
}
