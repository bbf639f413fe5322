// Parameters as the optimizers take them: the list or groups given to a constructor (an array or
// any iterable), each parameter's value, gradient and shape. Everything is read through args.ts:
// own properties, each once, into locals; then checked; then used.
import { copyArray, copyList, describe, has, isArrayValue, type Record0, readKeys, readOptions, readRecord, readShape, reading, typedArrayKind } from "../args.js";
import { sizeOf } from "../checks.js";
import { checkGradient, type GradientInput, type Operand, sameShape } from "../operands.js";
import { checkExtent, copyLayout } from "../layout.js";
import type { Runtime } from "../runtime.js";
import { checkLiveTensor, isTensor, type Tensor } from "../tensor.js";
import { ParamState } from "./state.js";

/**
 * A parameter: its weights and gradient (Tensors, zero-copy, or Float32Arrays, copied in and
 * out), its shape (taken from a Tensor value when omitted), and `gc: false` to exclude it from GC.
 * `value`, `grad` and `gc` are read at every step (own properties, once each), so either array may
 * be replaced by one of the same size between steps.
 */
export interface Param {
  value: Tensor | Float32Array;
  grad: Tensor | Float32Array;
  shape?: readonly number[];
  gc?: boolean;
}

/** A parameter as an optimizer holds it: the user's object, its name in messages, shape and state. */
export interface Slot {
  param: object;
  name: string;
  shape: readonly number[];
  size: number;
  group: number;
  state: ParamState;
}

/** A group as read from the caller: its own hyperparameter keys (unchecked) and its parameter list. */
export interface GroupInput {
  record: Record0;
  list: unknown[];
  /** `params[g]` for an explicit group; "" for the one group of a plain list. */
  prefix: string;
}

const PARAM_FIELDS = ["value", "grad", "shape", "gc"];
/** What a step reads from a parameter (its shape was read once, at construction). */
const STEP_FIELDS = ["value", "grad", "gc"];

/**
 * Reads a constructor's `params`: a list (array or iterable) of parameters, or of groups
 * (`{ params, ...hyperparameters }`), copied once. Hyperparameter values that are arrays (betas)
 * are copied too. `known` lists the hyperparameter names.
 */
export function readGroups(params: unknown, known: readonly string[], ruleName: string, caller: string): GroupInput[] {
  const list = copyList(params, true, caller, "params");
  if (list === undefined) {
    throw new TypeError(`${caller}: params must be an array or an iterable of parameters or parameter groups, got ${describe(params)}`);
  }
  const isGroup = (p: unknown) => p !== null && typeof p === "object" && !isTensor(p) && Object.hasOwn(p, "params");
  const groups = reading(caller, "params", () => list.filter(isGroup).length);
  if (groups === 0) return [{ record: Object.create(null) as Record0, list, prefix: "" }];
  if (groups !== list.length) {
    throw new TypeError(`${caller}: params must be all parameters or all parameter groups ({ params, ... }), not a mix`);
  }
  return list.map((group, g) => readGroup(group, known, ruleName, caller, `params[${g}]`));
}

/** Reads one group `{ params, ...hyperparameters }` (for constructors and `addParamGroup`). */
export function readGroup(group: unknown, known: readonly string[], ruleName: string, caller: string, prefix: string): GroupInput {
  const record = readOptions(group, [...known, "params"], caller, prefix, `an option of ${ruleName}`);
  if (!has(record, "params")) throw new TypeError(`${caller}: ${prefix}.params is required (the group's parameters)`);
  const list = copyList(record.params, true, caller, `${prefix}.params`);
  if (list === undefined) {
    throw new TypeError(`${caller}: ${prefix}.params must be an array or an iterable of parameters, got ${describe(record.params)}`);
  }
  delete record.params;
  return { record: copyArrays(record, caller, prefix), list, prefix };
}

/**
 * The record with every array value replaced by a copy of its own elements (read once), and a
 * `layout` object by a frozen copy of its data (see `copyLayout`).
 */
export function copyArrays(record: Record0, caller: string, name: string): Record0 {
  for (const key in record) {
    if (key === "layout") {
      record[key] = copyLayout(record[key], caller, `${name}.${key}`);
      continue;
    }
    const copy = copyArray(record[key], caller, `${name}.${key}`);
    if (copy !== undefined) record[key] = copy;
  }
  return record;
}

/** A parameter's fields as read from the caller's object (own properties, each once). */
export interface ParamFields {
  value: unknown;
  grad: unknown;
  shape: unknown;
  gc: unknown;
}

/** Reads a parameter object at construction: `{ value, grad, shape?, gc? }`, no other own key. */
export function readParamFields(input: unknown, name: string, caller: string): ParamFields {
  if (input === null || typeof input !== "object" || isArrayValue(input) || isTensor(input)) {
    throw new TypeError(`${caller}: ${name} must be { value, grad, shape?, gc? }, got ${describe(input)}`);
  }
  const record = readRecord(input, caller, name);
  if (!has(record, "value") || !has(record, "grad")) {
    throw new TypeError(`${caller}: ${name} must be { value, grad, shape?, gc? } (own properties), got ${describe(input)}`);
  }
  for (const key in record) {
    if (!PARAM_FIELDS.includes(key)) {
      throw new TypeError(`${caller}: ${name}.${key} is not a field of a parameter (known: value, grad, shape, gc)`);
    }
  }
  const shape = record.shape === undefined ? undefined : readShape(record.shape, caller, `${name}.shape`);
  return { value: record.value, grad: record.grad, shape, gc: record.gc };
}

/** Validates one parameter read at construction and makes its slot (state allocated lazily). */
export function makeSlot(param: object, fields: ParamFields, name: string, caller: string, rt: Runtime, group: number): Slot {
  const { value } = fields;
  let shape: readonly number[];
  if (isTensor(value)) {
    shape = checkLiveTensor(value, caller, `${name}.value`).shape;
    const given = fields.shape as readonly number[] | undefined;
    if (given !== undefined && !sameShape(given, shape)) {
      throw new RangeError(`${caller}: ${name}.shape [${given.join(", ")}] differs from its value's shape [${shape.join(", ")}]`);
    }
  } else if (isFloat32(value)) {
    if (fields.shape === undefined) throw new TypeError(`${caller}: ${name}.shape is required for a Float32Array value`);
    shape = fields.shape as readonly number[];
  } else {
    throw new TypeError(`${caller}: ${name}.value must be a Tensor or a Float32Array, got ${describe(value)}`);
  }
  checkExtent(shape, caller, `${name}.shape`);
  const size = sizeOf(shape);
  return { param, name, shape, size, group, state: new ParamState(rt.memory, size) };
}

/** What a step reads from one parameter: its value and gradient (kinds checked) and its gc flag. */
export interface ParamInputs {
  value: GradientInput;
  grad: GradientInput;
  gc: boolean | undefined;
  /** The caller's objects, to tell "the same array" apart from overlapping ones. */
  same: boolean;
}

/** Reads a parameter's current `value`, `grad` and `gc` (own properties, each once) and checks their kinds. */
export function readParamInputs(slot: Slot, caller: string, fields?: ParamFields): ParamInputs {
  const { name } = slot;
  const record = fields ?? (readKeys(slot.param, STEP_FIELDS, caller, name) as unknown as ParamFields);
  const { gc } = record;
  if (gc !== undefined && typeof gc !== "boolean") throw new TypeError(`${caller}: ${name}.gc must be a boolean, got ${describe(gc)}`);
  const value = operandInput(record.value, slot, caller, "value");
  const grad = operandInput(record.grad, slot, caller, "grad");
  return { value, grad, gc, same: record.value === record.grad };
}

function operandInput(x: unknown, slot: Slot, caller: string, what: string): GradientInput {
  const name = `${slot.name}.${what}`;
  if (isTensor(x)) return { kind: "tensor", tensor: x, name };
  if (isFloat32(x)) return { kind: "array", array: x, shape: slot.shape, name };
  throw new TypeError(`${caller}: ${name} must be a Tensor or a Float32Array, got ${describe(x)}`);
}

/** Checks a parameter's operands against memory as it is now: value first, then grad. */
export function checkParamOperands(rt: Runtime, slot: Slot, inputs: ParamInputs, caller: string): [Operand, Operand] {
  const value = checkGradient(rt, caller, inputs.value, slot.shape);
  const grad = checkGradient(rt, caller, inputs.grad, slot.shape);
  if (inputs.same) throw new TypeError(`${caller}: ${slot.name}.grad is the same array as ${slot.name}.value`);
  return [value, grad];
}

function isFloat32(x: unknown): x is Float32Array {
  return typedArrayKind(x) === "Float32Array";
}
