/**
 * Classifier-free guidance (Ho & Salimans 2022), in the reference's form:
 *   eps = (1 + w) * eps_cond - w * eps_uncond
 * w = 0 is the plain conditional model; larger w trades diversity for class fidelity
 * (the best public result used w = 2).
 */

/** The batched model output holds [cond (B items), uncond (B items)]; returns the guided B items. */
export function guide(eps: Float32Array, w: number): Float32Array {
  if (eps.length % 2 !== 0) throw new Error(`guidance: expected [cond, uncond] halves, got ${eps.length} values`);
  const half = eps.length / 2;
  return guideHalves(eps.subarray(0, half), eps.subarray(half), w);
}

/**
 * The guided prediction from the conditional and unconditional predictions of the same items,
 * into `out` (a new array by default; `cond` itself works: each value is read before it is written).
 */
export function guideHalves(cond: Float32Array, uncond: Float32Array, w: number, out: Float32Array = new Float32Array(cond.length)): Float32Array {
  if (!Number.isFinite(w)) throw new Error(`guidance: w must be a finite number, got ${w}`);
  if (cond.length !== uncond.length || out.length !== cond.length)
    throw new Error(`guidance: ${cond.length} conditional, ${uncond.length} unconditional values, ${out.length} out`);
  for (let i = 0; i < cond.length; i++) out[i] = (1 + w) * (cond[i] as number) - w * (uncond[i] as number);
  return out;
}
