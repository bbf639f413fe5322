// The seven newer rules as the tests drive them: each optimizer class, its float64 reference
// (tests/optim-oracle.ts), torch's defaults, and the option variants the trajectory tests cover.
import fc from "fast-check";
import { Adadelta, Adagrad, Adamax, Lion, NAdam, RAdam, RMSprop } from "../src/index.js";
import type { Param } from "../src/index.js";
import {
  AdadeltaReference, AdagradReference, AdamaxReference, type GcSettings, LionReference, NAdamReference, RAdamReference,
  type ReferenceParam, RMSpropReference,
} from "./optim-oracle.js";

/** What a test needs of an optimizer: step, checkpoints, dispose. */
export interface TestedOptimizer {
  step(): void;
  dispose(): void;
  stateDict(options?: { json?: boolean }): unknown;
  loadStateDict(state: never): void;
  readonly paramGroups: readonly object[];
}

/** A float64 reference the tests step side by side with the optimizer. */
export interface RuleReferenceLike {
  params: ReferenceParam[];
  step(grads: ArrayLike<number>[], settings: never[]): void;
  /** Lion: the smallest |c| a step took the sign of (LionReference). */
  smallestInterpolation?: number;
}

export type Options = Record<string, unknown>;

export interface RuleCase {
  name: string;
  make(params: Param[], options?: Options): TestedOptimizer;
  reference(params: ReferenceParam[]): RuleReferenceLike;
  /** torch's defaults of the rule (the paper's for Lion), without GC's. */
  defaults: Options;
  /** Hyperparameter variants for the trajectory tests: [label, options]; each runs every gc mode and layout. */
  variants: [string, Options][];
  /** Random hyperparameters for the property tests (lr, the rule's options, L2 or decay). */
  arbitrary: fc.Arbitrary<Options>;
  /** Options whose steps create every state buffer the rule has (for the checkpoint tests). */
  full: Options;
}

const betas = fc.constantFrom<[number, number]>([0.9, 0.999], [0.5, 0.9], [0, 0.99], [0.9, 0.6]);

const GC_DEFAULTS: GcSettings = { gc: "gradient", convOnly: false, layout: "out-first" };

/** The settings a reference sees for `options` over the rule's defaults. */
export function settingsOf(rule: RuleCase, options: Options): never {
  return { ...rule.defaults, ...GC_DEFAULTS, ...options } as never;
}

export const RULES: RuleCase[] = [
  {
    name: "RAdam",
    make: (p, o) => new RAdam(p, o),
    reference: (p) => new RAdamReference(p),
    defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
    variants: [
      ["lr 0.01 (rectified from t = 6)", { lr: 0.01 }],
      ["L2, betas [0.8, 0.99], eps 1e-3", { lr: 0.01, weightDecay: 0.05, betas: [0.8, 0.99], eps: 1e-3 }],
      ["betas [0.5, 0.8] (rectified from t = 7)", { lr: 0.01, betas: [0.5, 0.8] }],
      ["β2 0.6 (ρ∞ = 4: never rectified)", { lr: 0.01, betas: [0.9, 0.6] }],
    ],
    arbitrary: fc.record({ lr: fc.constantFrom(1e-3, 0.01), betas, eps: fc.constantFrom(1e-8, 1e-3), weightDecay: fc.constantFrom(0, 0.05) }),
    full: { lr: 0.01, weightDecay: 0.01 },
  },
  {
    name: "NAdam",
    make: (p, o) => new NAdam(p, o),
    reference: (p) => new NAdamReference(p),
    defaults: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3 },
    variants: [
      ["lr 0.01", { lr: 0.01 }],
      ["L2, momentumDecay 0.1, betas [0.8, 0.99]", { lr: 0.01, weightDecay: 0.05, momentumDecay: 0.1, betas: [0.8, 0.99] }],
    ],
    arbitrary: fc.record({ lr: fc.constantFrom(2e-3, 0.01), betas, eps: fc.constantFrom(1e-8, 1e-3), weightDecay: fc.constantFrom(0, 0.05), momentumDecay: fc.constantFrom(0, 4e-3, 0.2) }),
    full: { lr: 0.01, weightDecay: 0.01, momentumDecay: 0.05 },
  },
  {
    name: "Adamax",
    make: (p, o) => new Adamax(p, o),
    reference: (p) => new AdamaxReference(p),
    defaults: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, lrDecay: 0, formula: "torch" },
    variants: [
      ["lr 0.01", { lr: 0.01 }],
      ["L2, betas [0.5, 0.9], eps 1e-2", { lr: 0.01, weightDecay: 0.05, betas: [0.5, 0.9], eps: 1e-2 }],
      ["lrDecay 0.1", { lr: 0.01, lrDecay: 0.1 }],
    ],
    arbitrary: fc.record({ lr: fc.constantFrom(2e-3, 0.01), betas, eps: fc.constantFrom(1e-8, 1e-2), weightDecay: fc.constantFrom(0, 0.05) }),
    full: { lr: 0.01, weightDecay: 0.01 },
  },
  {
    name: "Adagrad",
    make: (p, o) => new Adagrad(p, o),
    reference: (p) => new AdagradReference(p),
    defaults: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, formula: "torch" },
    variants: [
      ["lr 0.05", { lr: 0.05 }],
      ["L2, lrDecay 0.1, initialAccumulatorValue 0.5", { lr: 0.05, weightDecay: 0.05, lrDecay: 0.1, initialAccumulatorValue: 0.5 }],
    ],
    arbitrary: fc.record({ lr: fc.constantFrom(0.01, 0.1), lrDecay: fc.constantFrom(0, 0.05), weightDecay: fc.constantFrom(0, 0.05), initialAccumulatorValue: fc.constantFrom(0, 0.1, 1), eps: fc.constantFrom(1e-10, 1e-3) }),
    full: { lr: 0.05, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.01 },
  },
  {
    name: "Adadelta",
    make: (p, o) => new Adadelta(p, o),
    reference: (p) => new AdadeltaReference(p),
    defaults: { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, formula: "torch" },
    variants: [
      ["defaults", {}],
      ["L2, rho 0.5, eps 1e-3, lr 0.5", { lr: 0.5, weightDecay: 0.05, rho: 0.5, eps: 1e-3 }],
    ],
    arbitrary: fc.record({ lr: fc.constantFrom(0.5, 1), rho: fc.constantFrom(0.5, 0.9, 0.99), eps: fc.constantFrom(1e-6, 1e-3), weightDecay: fc.constantFrom(0, 0.05) }),
    full: { rho: 0.8, weightDecay: 0.01 },
  },
  {
    name: "RMSprop",
    make: (p, o) => new RMSprop(p, o),
    reference: (p) => new RMSpropReference(p),
    defaults: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, formula: "torch" },
    variants: [
      ["defaults", {}],
      ["centered", { centered: true, alpha: 0.9 }],
      ["momentum 0.9, L2", { momentum: 0.9, weightDecay: 0.05, lr: 1e-3 }],
      ["centered, momentum 0.5, L2, eps 1e-3", { centered: true, momentum: 0.5, weightDecay: 0.05, eps: 1e-3 }],
    ],
    arbitrary: fc.record({ lr: fc.constantFrom(1e-3, 0.01), alpha: fc.constantFrom(0.9, 0.99), eps: fc.constantFrom(1e-8, 1e-3), weightDecay: fc.constantFrom(0, 0.05), momentum: fc.constantFrom(0, 0.5, 0.9), centered: fc.boolean() }),
    full: { centered: true, momentum: 0.9, weightDecay: 0.01, lr: 1e-3 },
  },
  {
    name: "Lion",
    make: (p, o) => new Lion(p, o),
    reference: (p) => new LionReference(p),
    defaults: { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0 },
    variants: [
      ["lr 1e-3", { lr: 1e-3 }],
      ["decoupled decay 0.5, betas [0.95, 0.98]", { lr: 1e-3, weightDecay: 0.5, betas: [0.95, 0.98] }],
    ],
    arbitrary: fc.record({ lr: fc.constantFrom(1e-4, 1e-3), betas: fc.constantFrom<[number, number]>([0.9, 0.99], [0.95, 0.98], [0, 0.5]), weightDecay: fc.constantFrom(0, 0.1, 1) }),
    full: { lr: 1e-3, weightDecay: 0.1 },
  },
];
