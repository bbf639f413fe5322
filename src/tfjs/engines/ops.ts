// The TF.js-ops engine: every rule's step as TF.js ops (ops-rules.ts), GC and weight decay placed as
// the main entry places them. Runs on every backend (webgl, webgpu, cpu, wasm, node) without init().
import { add, cast, clone, fill, mul, scalar, type Tensor, tidy, type Variable, variable } from "@tensorflow/tfjs-core";
import { centralizeUnits, type UnitAxes } from "../unit-view.js";
import type { Engine, EngineConfig, EngineStep, EngineVariable, NamedTensor, RuleName } from "./engine.js";
import { type OpsRule, opsRules, type SlotState } from "./ops-rules.js";

/** The unit axes of a variable: `unitAxis` merged with the `unitSpan − 1` axes after it (default 1). */
function unitAxesOf(v: EngineVariable): UnitAxes | null {
  if (v.unitAxis === null) return null;
  return { axis: v.unitAxis, span: v.unitSpan ?? 1 };
}

/** One variable's state: a non-trainable tf.Variable per slot, and the last step it took. */
interface VariableState {
  /** The variable it belongs to (another one under the same name: the state starts over). */
  readonly owner: Variable;
  readonly slots: Record<string, Variable>;
  t: number;
}

/**
 * The TF.js-ops engine. Per variable with a gradient g, inside one `tf.tidy`:
 *   d = g + wd·w (L2 rules; decoupled AdamW and Lion: d = g);  gc "gradient": d ← P d;
 *   (Δ, state) = rule(d, state);  w ← w + Δ, decoupled: w ← w·(1 − lr·wd) + Δ;
 *   gc "update": w ← w + P(Δ − lr·wd·w) (decoupled decay inside the centered step);
 *   Ranger: after every k-th step, Lookahead's φ ← φ + α·(w − φ), w ← φ.
 * wd is `hyperparameters.weightDecay` (tf.train's seven have none). P removes each output unit's
 * mean over the variable's unit axes (`unitAxis`, `unitSpan`); `unitAxis: null` skips it, and
 * `decay: false` skips weight decay. State lives in non-trainable tf.Variables, one per slot,
 * named in getState `${variable.name}/${slot}` (tf.train's slot names, as the kernels engine's);
 * the tf.Variables themselves get no global name, so two optimizers over one model never collide.
 *
 * @example
 * const engine = createOpsEngine({ rule: "adam", hyperparameters: { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, gc: "gradient" });
 * engine.apply([{ name: w.name, variable: w, unitAxis: 1, decay: true }], { gradients: [g], learningRate: 1e-3, step: 1 });
 */
export function createOpsEngine<R extends RuleName>(config: EngineConfig<R>): Engine {
  const rule = opsRules[config.rule] as OpsRule<typeof config.hyperparameters>;
  const h = config.hyperparameters;
  const slots = rule.slots(h);
  const gc = config.gc;
  const weightDecay = (h as { weightDecay?: number }).weightDecay ?? 0;
  const states = new Map<string, VariableState>();

  const initialValue = (v: EngineVariable, slot: string): Tensor => {
    const initial = rule.initial(slot, h);
    return initial === "weights" ? clone(v.variable) : fill(v.variable.shape, initial);
  };

  const stateOf = (v: EngineVariable): VariableState => {
    let state = states.get(v.name);
    if (state !== undefined && state.owner !== v.variable) {
      // Another variable under this name (a model rebuilt, the old variable disposed): start over, as the kernels engine does.
      for (const slot of slots) state.slots[slot].dispose();
      state = undefined;
    }
    if (state === undefined) {
      const made = Object.fromEntries(slots.map((slot) => [slot, tidy(() => variable(initialValue(v, slot), false))]));
      state = { owner: v.variable, slots: made, t: 0 };
      states.set(v.name, state);
    }
    return state;
  };

  const stepOne = (v: EngineVariable, g: Tensor, lr: number, t: number) => {
    const state = stateOf(v);
    const axes = unitAxesOf(v);
    const wd = v.decay ? weightDecay : 0;
    tidy(() => {
      const w = v.variable;
      const s = { lr, t };
      let d = !rule.decoupled && wd !== 0 ? add(g, mul(w, wd)) : g;
      if (gc === "gradient" && axes !== null) d = centralizeUnits(d, axes);
      const stepped = rule.step(d, state.slots as SlotState, h, s);
      const lrWd = rule.decoupled ? lr * wd : 0;
      let value: Tensor;
      if (gc === "update" && axes !== null) {
        value = add(w, centralizeUnits(lrWd !== 0 ? add(stepped.delta, mul(-lrWd, w)) : stepped.delta, axes));
      } else {
        value = lrWd !== 0 ? add(mul(w, 1 - lrWd), stepped.delta) : add(stepped.delta, w);
      }
      const next = rule.sync === undefined ? { value, state: stepped.state } : rule.sync(value, stepped.state, h, s);
      for (const slot of slots) {
        if (next.state[slot] !== state.slots[slot]) state.slots[slot].assign(next.state[slot]); // a variable assigned itself loses its data
      }
      w.assign(next.value);
    });
    state.t = t;
  };

  return {
    kind: "tfjs",
    apply(variables: readonly EngineVariable[], step: EngineStep): void {
      variables.forEach((v, i) => {
        const g = step.gradients[i];
        if (g != null) checkGradient(v, g);
      });
      variables.forEach((v, i) => {
        const g = step.gradients[i];
        if (g != null) stepOne(v, g, step.learningRate, step.step);
      });
    },
    getState(variables: readonly EngineVariable[]): NamedTensor[] {
      return variables.flatMap((v) => {
        const known = states.get(v.name);
        const state = known?.owner === v.variable ? known : undefined;
        const tensors = slots.map((slot) => ({
          name: `${v.name}/${slot}`,
          tensor: state === undefined ? initialValue(v, slot) : clone(state.slots[slot]),
        }));
        const scalars = rule.scalars?.(h, state?.t ?? 0) ?? {};
        return [...tensors, ...Object.entries(scalars).map(([slot, value]) => ({ name: `${v.name}/${slot}`, tensor: scalar(value) }))];
      });
    },
    setState(variables: readonly EngineVariable[], named: readonly NamedTensor[]): void {
      const byName = new Map(named.map((entry) => [entry.name, entry.tensor]));
      for (const v of variables) {
        for (const slot of slots) {
          const name = `${v.name}/${slot}`;
          const given = byName.get(name);
          if (given !== undefined && given.shape.join() !== v.variable.shape.join()) {
            throw new RangeError(`setState: ${name} has shape [${given.shape.join(", ")}], its variable [${v.variable.shape.join(", ")}]`);
          }
        }
      }
      for (const v of variables) {
        const state = stateOf(v);
        for (const slot of slots) {
          const given = byName.get(`${v.name}/${slot}`);
          tidy(() => state.slots[slot].assign(given !== undefined ? cast(given, "float32") : initialValue(v, slot)));
        }
      }
    },
    dispose(): void {
      for (const state of states.values()) for (const slot of slots) state.slots[slot].dispose();
      states.clear();
    },
  };
}

/** A gradient must be a live float32 tensor of its variable's shape (checked before any variable moves). */
function checkGradient(v: EngineVariable, gradient: Tensor): void {
  const shape = v.variable.shape;
  if (gradient.isDisposed) throw new TypeError(`applyGradients: the gradient of ${v.name} is a disposed tf.Tensor`);
  if (gradient.dtype !== "float32") throw new TypeError(`applyGradients: the gradient of ${v.name} must be float32, got ${gradient.dtype}`);
  if (gradient.shape.length !== shape.length || gradient.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`applyGradients: the gradient of ${v.name} has shape [${gradient.shape.join(", ")}], its variable [${shape.join(", ")}]`);
  }
}
