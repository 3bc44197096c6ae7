/**
 * The model's inputs besides the image, built the same way in training and in sampling (as
 * tensors: condition-tensors.ts). No TensorFlow.js here: the report page builds them too.
 */

/**
 * The time input of the network for 0-based timestep t: (t + 1) / T, i.e. the reference's
 * i / n_T for its 1-based step i, so the network sees values in (0, 1].
 */
export function modelTime(t: number, numTrainTimesteps: number): number {
  return (t + 1) / numTrainTimesteps;
}

/** The conditions of a batch as plain arrays: time [B], one-hot classes [B * K], drop mask [B]. */
export interface ConditionArrays {
  t: Float32Array;
  c: Float32Array;
  mask: Float32Array;
}

/** [B] times, [B, K] one-hot classes and [B] drop mask (1 = unconditional). */
export function conditionArrays(timesteps: ArrayLike<number>, labels: ArrayLike<number>, drop: ArrayLike<number>, numTrainTimesteps: number, nClasses: number): ConditionArrays {
  const b = labels.length;
  if (timesteps.length !== b || drop.length !== b) throw new Error(`conditions: ${timesteps.length} timesteps, ${b} labels and ${drop.length} mask values must agree`);
  const t = new Float32Array(b),
    c = new Float32Array(b * nClasses),
    mask = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    const label = labels[i] as number;
    if (!Number.isInteger(label) || label < 0 || label >= nClasses) throw new Error(`conditions: label ${label} outside 0..${nClasses - 1}`);
    t[i] = modelTime(timesteps[i] as number, numTrainTimesteps);
    c[i * nClasses + label] = 1;
    mask[i] = drop[i] as number;
  }
  return { t, c, mask };
}
