// The TF.js-ops engine: every rule's step as TF.js ops (ops-rules.ts), GC and weight decay placed as
// the main entry places them. Runs on every backend (webgl, webgpu, cpu, wasm, node) without init().
import { add, cast, clone, fill, mul, type Tensor, tidy, type Variable, variable } from "@tensorflow/tfjs-core";
import { centralizeUnits, type UnitAxes } from "../unit-view.js";
import type { Engine, EngineStep, EngineVariable, NamedTensor, RuleName, TfjsGcMode } from "./engine.js";
import { type OpsHyperparameters, opsRules, type SlotState } from "./ops-rules.js";

/** What the ops engine needs besides the variables: the rule, its hyperparameters, GC and decay. */
export interface OpsEngineConfig<R extends RuleName = RuleName> {
  readonly rule: R;
  readonly hyperparameters: OpsHyperparameters[R];
  /** "gradient": GC of the direction d; "update": GC of the whole step Δ; false: none. */
  readonly gc: TfjsGcMode;
  /** L2 (d = g + wd·w) for most rules; decoupled (w ← w·(1 − lr·wd) + Δ) for AdamW and Lion. 0: none. */
  readonly weightDecay: number;
}

/** The unit axes of a variable: `unitAxis` merged with the `unitSpan − 1` axes after it (default 1). */
function unitAxesOf(v: EngineVariable): UnitAxes | null {
  if (v.unitAxis === null) return null;
  return { axis: v.unitAxis, span: v.unitSpan ?? 1 };
}

/**
 * The TF.js-ops engine. Per variable with a gradient g, inside one `tf.tidy`:
 *   d = g + wd·w (L2 rules; decoupled rules: d = g);  gc "gradient": d ← P d;
 *   (Δ, state) = rule(d, state);  w ← w + Δ, decoupled: w ← w·(1 − lr·wd) + Δ;
 *   gc "update": w ← w + P(Δ − lr·wd·w) (decoupled decay inside the centered step).
 * P removes each output unit's mean over the variable's unit axes; `unitAxis: null` skips it, and
 * `decay: false` skips weight decay. State lives in non-trainable tf.Variables, one per slot, named
 * in getState as `${variable.name}/${slot}` (tf.train's slot names). The variables themselves are
 * created without a global name, so two optimizers over one model never collide.
 *
 * @example
 * const engine = createOpsEngine({ rule: "adam", hyperparameters: { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, gc: "gradient", weightDecay: 0 });
 * engine.apply([{ name: w.name, variable: w, unitAxis: 1, decay: true }], { gradients: [g], learningRate: 1e-3, step: 1 });
 */
export function createOpsEngine<R extends RuleName>(config: OpsEngineConfig<R>): Engine {
  const rule = opsRules[config.rule];
  const h = config.hyperparameters;
  const slots = rule.slots(h);
  const { gc, weightDecay } = config;
  const states = new Map<string, Record<string, Variable>>();

  const initialState = (v: EngineVariable): Record<string, Variable> =>
    Object.fromEntries(slots.map((slot) => [slot, tidy(() => variable(fill(v.variable.shape, rule.initial(slot, h)), false))]));

  const stateOf = (v: EngineVariable): Record<string, Variable> => {
    let state = states.get(v.name);
    if (state === undefined) {
      state = initialState(v);
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
      let d = !rule.decoupled && wd !== 0 ? add(g, mul(w, wd)) : g;
      if (gc === "gradient" && axes !== null) d = centralizeUnits(d, axes);
      const next = rule.step(d, state as SlotState, h, { lr, t });
      const lrWd = rule.decoupled ? lr * wd : 0;
      let value: Tensor;
      if (gc === "update" && axes !== null) {
        value = add(w, centralizeUnits(lrWd !== 0 ? add(next.delta, mul(-lrWd, w)) : next.delta, axes));
      } else {
        value = lrWd !== 0 ? add(mul(w, 1 - lrWd), next.delta) : add(next.delta, w);
      }
      for (const slot of slots) state[slot].assign(next.state[slot]);
      w.assign(value);
    });
  };

  return {
    kind: "tfjs",
    apply(variables: readonly EngineVariable[], step: EngineStep): void {
      variables.forEach((v, i) => {
        const g = step.gradients[i];
        if (g != null) stepOne(v, g, step.learningRate, step.step);
      });
    },
    getState(variables: readonly EngineVariable[]): NamedTensor[] {
      return variables.flatMap((v) => {
        const state = states.get(v.name);
        return slots.map((slot) => ({
          name: `${v.name}/${slot}`,
          tensor: state === undefined ? fill(v.variable.shape, rule.initial(slot, h)) : clone(state[slot]),
        }));
      });
    },
    setState(variables: readonly EngineVariable[], named: readonly NamedTensor[]): void {
      const byName = new Map(named.map((entry) => [entry.name, entry.tensor]));
      for (const v of variables) {
        for (const slot of slots) {
          const name = `${v.name}/${slot}`;
          const given = byName.get(name);
          if (given !== undefined && given.shape.join() !== v.variable.shape.join()) {
            throw new RangeError(`setState: ${name} has shape [${given.shape}], its variable [${v.variable.shape}]`);
          }
        }
      }
      for (const v of variables) {
        const state = stateOf(v);
        for (const slot of slots) {
          const given = byName.get(`${v.name}/${slot}`);
          tidy(() => state[slot].assign(given !== undefined ? cast(given, "float32") : fill(v.variable.shape, rule.initial(slot, h))));
        }
      }
    },
    dispose(): void {
      for (const state of states.values()) for (const slot of slots) state[slot].dispose();
      states.clear();
    },
  };
}
