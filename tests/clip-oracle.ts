// Float64 references of gradient clipping, written from torch.nn.utils.clip_grad_norm_ and
// clip_grad_value_ (error_if_nonfinite=False, foreach off): every value read as a float64.

/** The total norm of all values of all gradients: (Σ|g|ᵖ)^(1/p), or max |g| for p = ∞. */
export function totalNormReference(grads: ArrayLike<number>[], normType: number): number {
  const values = grads.flatMap((g) => Array.from(g, Math.abs));
  if (normType === Infinity) return values.reduce((m, x) => (Number.isNaN(x) || Number.isNaN(m) ? NaN : Math.max(m, x)), 0);
  return values.reduce((sum, x) => sum + x ** normType, 0) ** (1 / normType);
}

/**
 * clip_grad_norm_: c = maxNorm / (total + 1e-6), clamped to at most 1 (torch.clamp keeps NaN),
 * every gradient multiplied by c. Returns the total and the clipped values.
 */
export function clipGradNormReference(grads: ArrayLike<number>[], maxNorm: number, normType: number) {
  const total = totalNormReference(grads, normType);
  const coef = maxNorm / (total + 1e-6);
  const clamped = Number.isNaN(coef) ? NaN : Math.min(coef, 1);
  return { total, clipped: grads.map((g) => Float64Array.from(g, (x) => x * clamped)) };
}

/** clip_grad_value_: every value clamped to [−c, c] (NaN stays NaN). */
export function clipGradValueReference(grads: ArrayLike<number>[], clipValue: number): Float64Array[] {
  return grads.map((g) => Float64Array.from(g, (x) => (Number.isNaN(x) ? NaN : Math.min(Math.max(x, -clipValue), clipValue))));
}
