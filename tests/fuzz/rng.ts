// Seeded choices for the fuzz generators (mulberry32 underneath, as tests/random.ts).
import { uniform } from "../random.js";

/** A seeded source of the choices the generators make. */
export class Rng {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = uniform(seed);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One of the values. */
  pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.next() * values.length)];
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A standard normal sample (Box–Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }

  /** n float32 values offset + scale·N(0, 1). */
  array(n: number, offset = 0, scale = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = offset + scale * this.normal();
    return out;
  }

  /** A shape of rank in [minRank, maxRank], dims in [0, maxDim], a 0 dim only with probability pEmpty. */
  shape(minRank: number, maxRank: number, maxDim: number, pEmpty = 0.05): number[] {
    const rank = this.int(minRank, maxRank);
    return Array.from({ length: rank }, () => (this.chance(pEmpty) ? 0 : this.int(1, maxDim)));
  }
}

/**
 * A layout drawn as the generators always drew it (`base`, from their own stream), turned into an
 * axis between the two ends ({ unitAxis: 1 } or { unitAxis: -2 }: valid for every rank GC applies
 * to) in about 30% of cases by a separate stream from `seed`, so every other draw stays as it was.
 */
export function withUnitAxis(base: "out-first" | "out-last", seed: number): "out-first" | "out-last" | { unitAxis: number } {
  const side = new Rng((seed ^ 0x5a17a815) >>> 0);
  if (!side.chance(0.3)) return base;
  return { unitAxis: base === "out-first" ? 1 : -2 };
}

/** A layout as a label shows it. */
export const layoutLabel = (layout: unknown) => (typeof layout === "string" ? layout : JSON.stringify(layout));
