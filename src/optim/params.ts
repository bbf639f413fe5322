// Parameters as the optimizers take them: the list or groups given to a constructor, each
// parameter's value, gradient and shape, checked at construction and again at every step.
import { checkShape, kindOf, sizeOf } from "../checks.js";
import { checkExtent } from "../layout.js";
import type { Runtime } from "../runtime.js";
import { checkUsableArray } from "../operands.js";
import { checkLiveTensor, Tensor } from "../tensor.js";
import { ParamState } from "./state.js";

/**
 * A parameter: its weights and gradient (Tensors, zero-copy, or Float32Arrays, copied in and
 * out), its shape (taken from a Tensor value when omitted), and `gc: false` to exclude it from GC.
 * `value` and `grad` are read at every step, so either may be replaced by an array of the same size.
 */
export interface Param {
  value: Tensor | Float32Array;
  grad: Tensor | Float32Array;
  shape?: readonly number[];
  gc?: boolean;
}

/** A parameter as an optimizer holds it: the user's object, its name in messages, shape and state. */
export interface Slot {
  param: Param;
  name: string;
  shape: readonly number[];
  size: number;
  group: number;
  state: ParamState;
}

/** The `{ group, prefix }` list: one group of everything, or the groups given. */
export function groupInputs(params: unknown, caller: string): { group: object; prefix: string }[] {
  if (!Array.isArray(params)) throw new TypeError(`${caller}: params must be an array, got ${kindOf(params)}`);
  const isGroup = (p: unknown) => p !== null && typeof p === "object" && "params" in p;
  const groups = params.filter(isGroup).length;
  if (groups === 0) return [{ group: { params }, prefix: "" }];
  if (groups !== params.length) {
    throw new TypeError(`${caller}: params must be all parameters or all parameter groups ({ params, ... }), not a mix`);
  }
  return params.map((group, g) => ({ group, prefix: `params[${g}]` }));
}

/** Validates the keys of an options or group object (values are checked with the whole group). */
export function checkOptionKeys(options: unknown, rule: { name: string; checks: object }, caller: string, name: string, extra?: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`${caller}: ${name} must be an object, got ${kindOf(options)}`);
  }
  const known = Object.keys(rule.checks);
  for (const key of Object.keys(options)) {
    if (key === extra) continue;
    if (!known.includes(key)) {
      throw new TypeError(`${caller}: ${name}.${key} is not an option of ${rule.name} (known: ${known.join(", ")})`);
    }
  }
  return options as Record<string, unknown>;
}

/** The entries of `record` whose value is defined, `params` left out. */
export function definedEntries(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined && key !== "params") out[key] = value;
  return out;
}

/** Validates one parameter of a constructor's list and makes its slot (state allocated lazily). */
export function parseParam(input: unknown, name: string, caller: string, rt: Runtime, group: number): Slot {
  if (input === null || typeof input !== "object" || !("value" in input) || !("grad" in input)) {
    throw new TypeError(`${caller}: ${name} must be { value, grad, shape?, gc? }, got ${kindOf(input)}`);
  }
  const param = input as Param;
  for (const key of Object.keys(param)) {
    if (!["value", "grad", "shape", "gc"].includes(key)) {
      throw new TypeError(`${caller}: ${name}.${key} is not a field of a parameter (known: value, grad, shape, gc)`);
    }
  }
  const { value } = param;
  let shape: readonly number[];
  if (value instanceof Tensor) {
    checkLiveTensor(value, caller, `${name}.value`);
    shape = value.shape;
    if (param.shape !== undefined) {
      const given = checkShape(param.shape, caller, `${name}.shape`);
      if (!sameShape(given, shape)) {
        throw new RangeError(`${caller}: ${name}.shape [${given.join(", ")}] differs from its value's shape [${shape.join(", ")}]`);
      }
    }
  } else if (value instanceof Float32Array) {
    if (param.shape === undefined) throw new TypeError(`${caller}: ${name}.shape is required for a Float32Array value`);
    shape = checkShape(param.shape, caller, `${name}.shape`);
  } else {
    throw new TypeError(`${caller}: ${name}.value must be a Tensor or a Float32Array, got ${kindOf(value)}`);
  }
  checkExtent(shape, caller, `${name}.shape`);
  const slot: Slot = { param, name, shape, size: sizeOf(shape), group, state: new ParamState(rt.memory, sizeOf(shape)) };
  checkOperands(slot, caller);
  return slot;
}

/** A parameter's value and gradient, checked against its shape. */
export function checkOperands(slot: Slot, caller: string): [Tensor | Float32Array, Tensor | Float32Array] {
  const { param, name } = slot;
  if (param.gc !== undefined && typeof param.gc !== "boolean") {
    throw new TypeError(`${caller}: ${name}.gc must be a boolean, got ${kindOf(param.gc)}`);
  }
  const value = checkOperand(param.value, slot, caller, "value");
  const grad = checkOperand(param.grad, slot, caller, "grad");
  if (value === grad) throw new TypeError(`${caller}: ${name}.grad is the same array as ${name}.value`);
  return [value, grad];
}

function checkOperand(x: unknown, slot: Slot, caller: string, what: string): Tensor | Float32Array {
  const name = `${slot.name}.${what}`;
  if (x instanceof Tensor) {
    checkLiveTensor(x, caller, name);
    if (!sameShape(x.shape, slot.shape)) {
      throw new RangeError(`${caller}: ${name} has shape [${x.shape.join(", ")}], expected [${slot.shape.join(", ")}]`);
    }
    return x;
  }
  if (x instanceof Float32Array) {
    checkUsableArray(x, slot.size, caller, name);
    if (x.length !== slot.size) {
      throw new RangeError(`${caller}: ${name} has ${x.length} values, expected ${slot.size} (shape [${slot.shape.join(", ")}])`);
    }
    return x;
  }
  throw new TypeError(`${caller}: ${name} must be a Tensor or a Float32Array, got ${kindOf(x)}`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
