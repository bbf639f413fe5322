// SGD with momentum (torch.optim.SGD) and Gradient Centralization fused into its kernel.
import { isBoolean } from "../checks.js";
import { type Layout, sameLayout } from "../layout.js";
import { Optimizer, type OptimizerOptions, type ParamGroupInput, type Rule } from "./base.js";
import type { Param } from "./params.js";
import { gcChecks, gcDefaults, type GcHyperparameters, nonNegative, unitInterval } from "./hyperparameters.js";
import type { ParamState } from "./state.js";
import { type EntryWriter, F32, FLAG, I32 } from "./table.js";

/** SGD's hyperparameters (torch.optim.SGD's names in camelCase) plus GC's. */
export interface SGDHyperparameters extends GcHyperparameters {
  /** Learning rate; required. */
  lr: number;
  /** μ; default 0 (no momentum buffer). */
  momentum: number;
  /** Dampening of the gradient added to the momentum buffer, in [0, 1]; default 0. */
  dampening: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0); default false. */
  nesterov: boolean;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
}

/** Options of `new SGD`: `lr` is required (here or in every group). */
export type SGDOptions = OptimizerOptions<SGDHyperparameters>;

const MOMENTUM_BUFFER = "momentumBuffer";

const sgdRule: Rule<SGDHyperparameters> = {
  name: "SGD",
  kernel: "sgdStep",
  defaults: { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...gcDefaults },
  checks: {
    lr: nonNegative,
    momentum: nonNegative,
    dampening: unitInterval,
    nesterov: isBoolean,
    weightDecay: nonNegative,
    ...gcChecks,
  },
  checkGroup(group, caller, prefix) {
    if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
      throw new RangeError(
        `${caller}: ${prefix}nesterov requires momentum > 0 and dampening = 0, got momentum ${group.momentum}, dampening ${group.dampening}`,
      );
    }
  },
  bufferNames: [MOMENTUM_BUFFER],
  buffersFor: (group) => (group.momentum !== 0 ? [MOMENTUM_BUFFER] : []),
  writeEntry(entry: EntryWriter, group: SGDHyperparameters, state: ParamState, created: readonly string[], units: Layout | undefined): number {
    entry.int(I32.stateA, state.address(MOMENTUM_BUFFER));
    entry.float(F32.weightDecay, group.weightDecay);
    entry.float(F32.negLr, -group.lr);
    entry.float(F32.momentum, group.momentum);
    entry.float(F32.keep, 1 - group.dampening);
    if (group.momentum === 0) return 0;
    const first = created.includes(MOMENTUM_BUFFER);
    const center = !first && units !== undefined && group.gc === "update" && !sameLayout(state.centered, units);
    return FLAG.hasMomentum | (group.nesterov ? FLAG.nesterov : 0) | (first ? FLAG.firstStep : 0) | (center ? FLAG.centerBuffer : 0);
  },
  // The buffer is centered over `units` when it was made from a centered d, has just been centered
  // (gc "update"), or was centered over them and got a d centered over them (gc "gradient").
  centeredAfter(group, state, created, units) {
    if (!state.buffers.has(MOMENTUM_BUFFER)) return undefined;
    if (group.momentum === 0) return state.centered; // the buffer was not touched
    if (units === undefined) return undefined;
    if (group.gc === "update" || created.includes(MOMENTUM_BUFFER)) return units;
    return sameLayout(state.centered, units) ? units : undefined;
  },
};

/**
 * Stochastic gradient descent with momentum, as torch.optim.SGD, with GC fused into the step.
 * Per step, with d = g + weightDecay·w:
 *   gc "gradient": d ← P d (each output unit's mean removed), the official SGD_GC;
 *   buf ← d on the first step, else momentum·buf + (1 − dampening)·d;
 *   s = nesterov ? d + momentum·buf : buf (s = d without momentum);  w ← w − lr·s.
 * gc "update" (centralize the whole step −lr·s) gives the same weights, since P is linear and s is
 * a combination of centered directions; it runs as "gradient", whose momentum buffer then holds
 * centered values (more accurate in float32 than centering −lr·buf). A buffer that holds
 * uncentered values (gc was off, or another layout or convOnly) is centered once first, so the
 * unit means of the weights stay fixed whatever came before. Rank ≤ 1 parameters and
 * parameters with `gc: false` are not centralized.
 *
 * @example
 * const opt = new SGD([{ value: w, grad: dw }, { value: b, grad: db }], { lr: 0.1, momentum: 0.9 });
 * for (const batch of batches) {
 *   computeGradients(batch);   // fills dw, db
 *   opt.step();
 * }
 */
export class SGD extends Optimizer<SGDHyperparameters> {
  constructor(params: readonly Param[] | readonly ParamGroupInput<SGDHyperparameters>[], options?: SGDOptions) {
    super(sgdRule, params, options);
  }
}
