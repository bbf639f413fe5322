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
