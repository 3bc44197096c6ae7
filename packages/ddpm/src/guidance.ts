/**
 * Classifier-free guidance (Ho & Salimans 2022), in the reference's form:
 *   eps = (1 + w) * eps_cond - w * eps_uncond
 * w = 0 is the plain conditional model; larger w trades diversity for class fidelity
 * (the best public result used w = 2).
 */

/** The batched model output holds [cond (B items), uncond (B items)]; returns the guided B items. */
export function guide(eps: Float32Array, w: number): Float32Array {
  if (!Number.isFinite(w)) throw new Error(`guidance: w must be a finite number, got ${w}`);
  if (eps.length % 2 !== 0) throw new Error(`guidance: expected [cond, uncond] halves, got ${eps.length} values`);
  const half = eps.length / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) out[i] = (1 + w) * (eps[i] as number) - w * (eps[half + i] as number);
  return out;
}
