// The contract between the TF.js optimizers (src/tfjs/optimizer.ts) and the two engines that run
// a rule's step: the fused kernels over linear memory (engines/kernels.ts, cpu and wasm backends)
// and TF.js ops (engines/ops.ts, every backend). Both engines hold the same state under the same
// names, so a checkpoint written by one loads into the other.
import type { Tensor, Variable } from "@tensorflow/tfjs-core";

/** A tensor and its name, as `tf.Optimizer.getWeights` returns them. */
export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

/** The rules the TF.js entry offers; the `tfjs-*` flavours follow `tf.train`'s formulas exactly. */
export type RuleName =
  | "sgd" | "momentum" | "adam" | "adamax" | "adagrad" | "adadelta" | "rmsprop" // tf.train's seven
  | "adamw" | "radam" | "nadam" | "lion" // the main entry's rules beyond TF.js
  | "ranger"; // Lookahead(RAdam): RAdam's state plus the slow weights (`${name}/slow`)

/** Where GC goes: on the direction before the rule ("gradient"), on the whole step ("update"), or off. */
export type TfjsGcMode = "gradient" | "update" | false;

/**
 * Each rule's hyperparameters, the learning rate aside (each step brings it). tf.train's seven use
 * tf.train's names (epsilon already resolved: never null); the main entry's rules use its names.
 */
export interface RuleHyperparameters {
  sgd: Record<string, never>;
  momentum: { momentum: number; useNesterov: boolean };
  adam: { beta1: number; beta2: number; epsilon: number };
  adamax: { beta1: number; beta2: number; epsilon: number; decay: number };
  adagrad: { initialAccumulatorValue: number; epsilon: number };
  adadelta: { rho: number; epsilon: number };
  rmsprop: { decay: number; momentum: number; epsilon: number; centered: boolean };
  adamw: { betas: [number, number]; eps: number; weightDecay: number; amsgrad: boolean };
  radam: { betas: [number, number]; eps: number; weightDecay: number };
  nadam: { betas: [number, number]; eps: number; weightDecay: number; momentumDecay: number };
  lion: { betas: [number, number]; weightDecay: number };
  ranger: { betas: [number, number]; eps: number; weightDecay: number; k: number; alpha: number };
}

/** What an engine is made from: the rule, its hyperparameters (checked) and where GC goes. */
export interface EngineConfig<R extends RuleName = RuleName> {
  readonly rule: R;
  readonly hyperparameters: Readonly<RuleHyperparameters[R]>;
  readonly gc: TfjsGcMode;
}

/** Makes an engine (`createKernelsEngine` in engines/kernels.ts, `createOpsEngine` in engines/ops.ts). */
export type EngineFactory = (config: EngineConfig) => Engine;

/** A variable as an engine steps it. */
export interface EngineVariable {
  /** `variable.name`: the key of its gradient and the prefix of its state names (`${name}/m`). */
  readonly name: string;
  readonly variable: Variable;
  /** The output-unit axis GC centers over (non-negative, < rank); null: this variable is not centralized. */
  readonly unitAxis: number | null;
  /**
   * How many consecutive axes from `unitAxis` form the unit index, merged row-major (default 1).
   * DepthwiseConv2D's `[kh, kw, in, multiplier]` kernel: unitAxis 2, unitSpan 2 (each (in, multiplier)
   * pair a unit, its mean over kh·kw). The tensor is then the `[outer, units, inner]` view with
   * outer = ∏ shape[:unitAxis], units = ∏ shape[unitAxis : unitAxis + unitSpan], inner = the rest
   * (`unitView` in src/tfjs/unit-view.ts computes it).
   */
  readonly unitSpan?: number;
  /** False when `excludeFromWeightDecay` names it. */
  readonly decay: boolean;
}

/** One step's inputs. Gradients are already clipped; a null gradient leaves its variable and state alone. */
export interface EngineStep {
  readonly gradients: readonly (Tensor | null)[];
  /** This step's learning rate (a schedule evaluated at `step − 1`). */
  readonly learningRate: number;
  /** 1-based: the number of steps taken, this one included. */
  readonly step: number;
}

/** One rule's step over a list of variables, with its state. */
export interface Engine {
  readonly kind: "kernels" | "tfjs";
  /** Applies one step to `variables` (same order as `step.gradients`), writing their new values. */
  apply(variables: readonly EngineVariable[], step: EngineStep): void;
  /** The state as new tensors named `${variable.name}/${slot}` (the caller disposes them). */
  getState(variables: readonly EngineVariable[]): NamedTensor[];
  /** Replaces the state from tensors named as `getState` names them (missing: zero / initial). */
  setState(variables: readonly EngineVariable[], state: readonly NamedTensor[]): void;
  /** Frees the state (linear memory or TF.js tensors). */
  dispose(): void;
}
