// Scoped disposal of tensors, as TF.js users know it: tidy(fn) frees every Tensor made inside fn
// that fn does not return; `using` (Symbol.dispose) frees one at the end of its block.
import { kindOf } from "./checks.js";

/** What a scope holds: anything made inside it that frees itself with dispose(). */
interface Owned {
  dispose(): void;
}

/** The open tidy() scopes, innermost last. */
const scopes: Set<Owned>[] = [];

/** Records a tensor in the innermost open tidy() scope (none: nothing to do). */
export function track(owned: Owned): void {
  scopes[scopes.length - 1]?.add(owned);
}

/**
 * Runs `fn` and then disposes every Tensor made while it ran, except those in its result (a
 * Tensor, or arrays and plain objects holding Tensors, at any depth), which move to the
 * enclosing tidy() if there is one. When `fn` throws, every Tensor it made is disposed and the
 * error is rethrown. Like `tf.tidy`, `fn` must be synchronous.
 *
 * @example
 * const loss = tidy(() => {
 *   const g = Tensor.from(gradient, [64, 784]);   // disposed when tidy returns
 *   centralize(g);
 *   return gradientStats(g).mean[0];
 * });
 * const kept = tidy(() => Tensor.from([1, 2, 3])); // returned: still alive
 * @returns what `fn` returned.
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== "function") throw new TypeError(`tidy: fn must be a function, got ${kindOf(fn)}`);
  const scope = new Set<Owned>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    disposeAll(scope, new Set());
    throw error;
  } finally {
    scopes.pop();
  }
  if (result !== null && typeof (result as { then?: unknown })?.then === "function") {
    disposeAll(scope, new Set());
    throw new TypeError(
      "tidy: fn returned a Promise; tidy is synchronous (tensors made after an await would escape it). In async code, dispose() tensors or declare them with `using`",
    );
  }
  const kept = new Set<Owned>();
  collect(result, scope, kept, new Set());
  disposeAll(scope, kept);
  const parent = scopes[scopes.length - 1];
  if (parent) for (const owned of kept) parent.add(owned);
  return result;
}

/**
 * Keeps `tensor` alive when the tidy() it was made in ends, without returning it.
 *
 * @example
 * let best: Tensor | undefined;
 * tidy(() => { const t = Tensor.from(weights); if (isBest(t)) best = keep(t); });
 * @returns `tensor`.
 */
export function keep<T extends Owned>(tensor: T): T {
  for (const scope of scopes) scope.delete(tensor);
  return tensor;
}

function disposeAll(scope: Set<Owned>, kept: Set<Owned>): void {
  let failure: unknown;
  for (const owned of scope) {
    if (kept.has(owned)) continue;
    try {
      owned.dispose();
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
}

/** Adds to `kept` every member of `scope` found in `value` (arrays and plain objects walked). */
function collect(value: unknown, scope: Set<Owned>, kept: Set<Owned>, seen: Set<object>): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if (scope.has(value as Owned)) {
    kept.add(value as Owned);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collect(item, scope, kept, seen);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return;
  for (const key of Object.keys(value)) collect((value as Record<string, unknown>)[key], scope, kept, seen);
}
