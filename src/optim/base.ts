// What SGD, Adam and AdamW share: parameters and groups, argument checks, state in linear memory,
// one fused kernel call per step, checkpoints. Each optimizer supplies a `Rule`.
import { kindOf, type OptionCheck } from "../checks.js";
import type { OptimizerKernelName } from "../loader.js";
import { isCentralized, type Layout, layoutCheck, unitMatrix } from "../layout.js";
import { withOperands } from "../operands.js";
import { type Runtime, runtime } from "../runtime.js";
import { Tensor } from "../tensor.js";
import type { GcHyperparameters } from "./hyperparameters.js";
import { checkOperands, checkOptionKeys, definedEntries, groupInputs, type Param, parseParam, type Slot } from "./params.js";
import { encodeFloat32, type ParamState, type ParamStateDict, readStateBuffer } from "./state.js";
import { ENTRY_BYTES, EntryWriter, FLAG, I32, scratchBytes } from "./table.js";

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
   * step; `units`: the layout whose output units GC centers this parameter over in this step
   * (undefined when GC does not apply to it).
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

/** How one parameter is stepped: as a [rows, cols] matrix, with GC over the units of `units` (or none). */
interface UnitLayout {
  rows: number;
  cols: number;
  flags: number;
  units: Layout | undefined;
  scratch: number;
}

/** A parameter's weights as checked for a call, and their count. */
export interface ParamValue {
  value: Tensor | Float32Array;
  size: number;
}

/**
 * Package-internal (Lookahead): every parameter's weights, checked as `step` checks them, in
 * group order then parameter order.
 */
export let parameterValues: (optimizer: Optimizer<never>, caller: string) => ParamValue[];

/** The base of SGD, Adam and AdamW. */
export abstract class Optimizer<H extends Hyperparameters> {
  static {
    parameterValues = (optimizer, caller) => optimizer.#slots.map((slot) => ({ value: checkOperands(slot, caller)[0], size: slot.size }));
  }

  /** The parameter groups; their hyperparameters may be changed between steps. */
  readonly paramGroups: ParamGroup<H>[];
  readonly #rule: Rule<H>;
  readonly #slots: Slot[];
  #runtime: Runtime | undefined;
  /** Steps taken (the step a schedule lr is called with next). */
  #steps = 0;

  protected constructor(rule: Rule<H>, params: unknown, options: unknown) {
    const caller = `new ${rule.name}`;
    const rt = runtime(caller);
    this.#rule = rule;
    const base = { ...rule.defaults, ...definedEntries(checkOptionKeys(options, rule, caller, "options")) };
    const inputs = groupInputs(params, caller);
    const seen = new Set<unknown>();
    this.#slots = [];
    this.paramGroups = inputs.map(({ group, prefix }, g) => {
      const overrides = definedEntries(checkOptionKeys(group, rule, caller, prefix, "params"));
      const hyper = { ...base, ...overrides } as unknown as H;
      this.#checkGroup(hyper, caller, prefix ? `${prefix}.` : "options.");
      const list = (group as { params: unknown }).params;
      const listName = prefix ? `${prefix}.params` : "params";
      if (!Array.isArray(list)) throw new TypeError(`${caller}: ${listName} must be an array, got ${kindOf(list)}`);
      for (let i = 0; i < list.length; i++) {
        const name = `${listName}[${i}]`;
        const slot = parseParam(list[i], name, caller, rt, g);
        if (seen.has(slot.param.value)) throw new TypeError(`${caller}: ${name}.value appears in more than one parameter`);
        seen.add(slot.param.value);
        this.#slots.push(slot);
      }
      return { ...copyHyperparameters(hyper, Object.keys(rule.checks)), params: Object.freeze([...list]) } as unknown as ParamGroup<H>;
    });
    if (this.#slots.length === 0) throw new RangeError(`${caller}: params is empty`);
    this.#runtime = rt;
    leaked.register(this, this.#slots.map((s) => s.state), this);
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
   * Everything is checked first: a bad hyperparameter or operand throws and changes nothing.
   */
  step(): void {
    const rt = this.#live("step");
    const caller = `${this.#rule.name}.step`;
    const groups = this.paramGroups.map((group, g) => this.#stepHyperparameters(group, g, caller));
    const created = this.#slots.map((slot) => {
      const group = groups[slot.group];
      return this.#rule.buffersFor(group).filter((name) => !slot.state.buffers.has(name));
    });
    const layouts = this.#slots.map((slot) => this.#unitLayout(slot));
    // Buffers are made before operands are checked: memory growth detaches Float32Array views of
    // linear memory, and a detached view then fails its length check instead of being read as empty.
    // A step that fails anywhere after that (a bad operand, memory that cannot grow) frees them
    // again, so the next step is still their first (SGD: buf = d).
    try {
      this.#slots.forEach((slot, k) => created[k].forEach((name) => slot.state.create(name)));
      const operands = this.#slots.flatMap((slot) => checkOperands(slot, caller));
      this.#run(rt, operands, created, layouts, groups);
    } catch (error) {
      this.#slots.forEach((slot, k) => created[k].forEach((name) => slot.state.remove(name)));
      throw error;
    }
    this.#slots.forEach((slot, k) => {
      const { units } = layouts[k];
      slot.state.centered = this.#rule.centeredAfter?.(groups[slot.group], slot.state, created[k], units);
      const scalars = this.#rule.scalarsAfter?.(groups[slot.group], slot.state) ?? {};
      for (const [name, value] of Object.entries(scalars)) slot.state.scalars.set(name, value);
      slot.state.step++;
    });
    this.#steps++;
  }

  /**
   * A group's hyperparameters for this step, checked: a schedule lr evaluated at the step count
   * (its result checked as a number lr, and finite as float32), the others as they are.
   */
  #stepHyperparameters(group: ParamGroup<H>, g: number, caller: string): H {
    const { lr } = group;
    if (typeof lr !== "function") {
      this.#checkGroup(group as unknown as H, caller, `paramGroups[${g}].`);
      return group as unknown as H;
    }
    const value: unknown = lr(this.#steps);
    const name = `paramGroups[${g}].lr(${this.#steps})`;
    this.#rule.checks.lr(value, caller, name);
    if (!Number.isFinite(Math.fround(value as number))) {
      throw new RangeError(`${caller}: ${name} returned ${value as number}, which float32 cannot hold`);
    }
    const hyper = { ...group, lr: value } as unknown as H;
    this.#checkGroup(hyper, caller, `paramGroups[${g}].`);
    return hyper;
  }

  #run(rt: Runtime, operands: (Tensor | Float32Array)[], created: string[][], layouts: UnitLayout[], groups: H[]): void {
    const { kernels, memory } = rt;
    const kernelScratch = Math.max(32, ...layouts.map((l) => l.scratch));
    const tableBytes = this.#slots.length * ENTRY_BYTES;
    const staged = operands.map((v) => !(v instanceof Tensor) && v.buffer !== memory.buffer);
    withOperands(rt, operands, tableBytes + kernelScratch, false, (ptrs, table) => {
      const i32 = memory.i32;
      const f32 = memory.f32;
      this.#slots.forEach((slot, k) => {
        const entry = new EntryWriter(i32, f32, table + k * ENTRY_BYTES);
        const { rows, cols, flags, units } = layouts[k];
        entry.int(I32.value, ptrs[2 * k]);
        entry.int(I32.grad, ptrs[2 * k + 1]);
        entry.int(I32.rows, rows);
        entry.int(I32.cols, cols);
        const ruleFlags = this.#rule.writeEntry(entry, groups[slot.group], slot.state, created[k], units);
        entry.int(I32.flags, flags | ruleFlags);
      });
      kernels[this.#rule.kernel](table, this.#slots.length, table + tableBytes);
      const heap = memory.f32;
      for (let k = 0; k < this.#slots.length; k++) {
        if (!staged[2 * k]) continue;
        const at = ptrs[2 * k] >>> 2;
        (operands[2 * k] as Float32Array).set(heap.subarray(at, at + this.#slots[k].size));
      }
    });
  }

  /** The matrix a parameter is stepped as, its GC flags and units, and the scratch it needs. */
  #unitLayout(slot: Slot): UnitLayout {
    const group = this.paramGroups[slot.group];
    const gc = group.gc !== false && slot.param.gc !== false && isCentralized(slot.shape, group.convOnly);
    if (!gc) return { rows: 1, cols: slot.size, flags: 0, units: undefined, scratch: 0 };
    const { rows, cols, unitsAreRows } = unitMatrix(slot.shape, group.layout);
    const flags = (group.gc === "update" ? FLAG.gcUpdate : FLAG.gcGradient) | (unitsAreRows ? 0 : FLAG.unitsAreColumns);
    return { rows, cols, flags, units: group.layout, scratch: scratchBytes(cols, !unitsAreRows) };
  }

  /** Sets every gradient to zero (checked first: a disposed gradient Tensor throws before any is zeroed). */
  zeroGrad(): void {
    this.#live("zeroGrad");
    const caller = `${this.#rule.name}.zeroGrad`;
    const grads = this.#slots.map((slot) => checkOperands(slot, caller)[1]);
    for (const grad of grads) (grad instanceof Tensor ? grad.data : grad).fill(0);
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
    if (options === null || typeof options !== "object") throw new TypeError(`${caller}: options must be an object, got ${kindOf(options)}`);
    for (const key of Object.keys(options)) {
      if (key !== "json") throw new TypeError(`${caller}: options.${key} is not an option (known: json)`);
    }
    if (options.json !== undefined && typeof options.json !== "boolean") {
      throw new TypeError(`${caller}: options.json must be a boolean, got ${kindOf(options.json)}`);
    }
    const state = this.#slots.map((slot) => {
      const entry: ParamStateDict = { step: slot.state.step };
      for (const name of this.#rule.bufferNames) {
        if (!slot.state.buffers.has(name)) continue;
        const values = slot.state.read(name);
        entry[name] = options.json ? encodeFloat32(values) : values;
      }
      if (slot.state.centered !== undefined) entry.centered = slot.state.centered;
      for (const [name, value] of slot.state.scalars) entry[name] = value;
      return entry;
    });
    let next = 0;
    const paramGroups = this.paramGroups.map((group) => {
      const hyper = copyHyperparameters(group as unknown as H, Object.keys(this.#rule.checks));
      return { ...hyper, lr: typeof group.lr === "function" ? null : hyper.lr, params: group.params.map(() => next++) };
    });
    return { optimizer: this.#rule.name, step: this.#steps, state, paramGroups };
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
    if (dict === null || typeof dict !== "object") throw new TypeError(`${caller}: state must be an object, got ${kindOf(dict)}`);
    if (dict.optimizer !== rule.name) {
      throw new TypeError(`${caller}: state.optimizer is ${JSON.stringify(dict.optimizer)}, expected "${rule.name}"`);
    }
    const { state, paramGroups } = dict;
    if (!Array.isArray(paramGroups) || paramGroups.length !== this.paramGroups.length) {
      throw new RangeError(`${caller}: state.paramGroups must list ${this.paramGroups.length} group(s)`);
    }
    if (!Array.isArray(state) || state.length !== this.#slots.length) {
      throw new RangeError(`${caller}: state.state must list ${this.#slots.length} parameter(s)`);
    }
    let next = 0;
    const hypers = paramGroups.map((group, g) => {
      const prefix = `state.paramGroups[${g}]`;
      if (group === null || typeof group !== "object") throw new TypeError(`${caller}: ${prefix} must be an object`);
      const hyper: Record<string, unknown> = {};
      for (const key of Object.keys(rule.checks)) {
        if (!(key in group)) throw new TypeError(`${caller}: ${prefix}.${key} is missing`);
      }
      for (const [key, value] of Object.entries(group)) {
        if (key === "params") continue;
        if (key === "lr" && value === null) {
          if (typeof this.paramGroups[g].lr !== "function") {
            throw new TypeError(`${caller}: ${prefix}.lr is null (a schedule), but paramGroups[${g}].lr is not a function: make the optimizer with that schedule`);
          }
          hyper.lr = this.paramGroups[g].lr;
          continue;
        }
        const check = (rule.checks as Record<string, OptionCheck>)[key];
        if (!check) throw new TypeError(`${caller}: ${prefix}.${key} is not a hyperparameter of ${rule.name}`);
        check(value, caller, `${prefix}.${key}`);
        hyper[key] = Array.isArray(value) ? [...value] : value;
      }
      this.#checkGroup(hyper as H, caller, `${prefix}.`);
      const indices = group.params;
      const expected = this.paramGroups[g].params.map(() => next++);
      if (!Array.isArray(indices) || indices.length !== expected.length || indices.some((v, i) => v !== expected[i])) {
        throw new RangeError(`${caller}: ${prefix}.params must be [${expected.join(", ")}]`);
      }
      return hyper as H;
    });
    const buffers = state.map((entry, k) => {
      const name = `state.state[${k}]`;
      if (entry === null || typeof entry !== "object") throw new TypeError(`${caller}: ${name} must be an object`);
      const { step } = entry;
      if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) {
        throw new RangeError(`${caller}: ${name}.step must be a non-negative integer, got ${String(step)}`);
      }
      const values = new Map<string, Float32Array>();
      let centered: Layout | undefined;
      const scalars = new Map<string, number>();
      for (const [key, value] of Object.entries(entry)) {
        if (key === "step") continue;
        if (key === "centered" && rule.centeredAfter) {
          layoutCheck(value, caller, `${name}.centered`);
          centered = value as Layout;
          continue;
        }
        if (rule.scalarNames?.includes(key)) {
          if (typeof value !== "number") throw new TypeError(`${caller}: ${name}.${key} must be a number, got ${kindOf(value)}`);
          if (!Number.isFinite(value)) throw new RangeError(`${caller}: ${name}.${key} must be finite, got ${value}`);
          scalars.set(key, value);
          continue;
        }
        if (!rule.bufferNames.includes(key)) throw new TypeError(`${caller}: ${name}.${key} is not a state buffer of ${rule.name}`);
        values.set(key, readStateBuffer(value, this.#slots[k].size, caller, `${name}.${key}`));
      }
      return { step, values, centered, scalars };
    });
    const steps = dict.step === undefined ? Math.max(0, ...buffers.map((b) => b.step)) : dict.step;
    if (typeof steps !== "number" || !Number.isSafeInteger(steps) || steps < 0) {
      throw new RangeError(`${caller}: state.step must be a non-negative integer, got ${String(steps)}`);
    }
    hypers.forEach((hyper, g) => Object.assign(this.paramGroups[g], hyper));
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
    for (const slot of this.#slots) slot.state.clear();
    this.#runtime = undefined;
  }

  /** True after `dispose()`. */
  get disposed(): boolean {
    return this.#runtime === undefined;
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

  #singleGroup(what: string): ParamGroup<H> {
    this.#live(what);
    if (this.paramGroups.length !== 1) {
      throw new TypeError(
        `${this.#rule.name}.${what}: the optimizer has ${this.paramGroups.length} parameter groups; use paramGroups[i].${what}`,
      );
    }
    return this.paramGroups[0];
  }

  #live(what: string): Runtime {
    if (!this.#runtime) throw new TypeError(`${this.#rule.name}.${what}: the optimizer has been disposed`);
    return this.#runtime;
  }
}
