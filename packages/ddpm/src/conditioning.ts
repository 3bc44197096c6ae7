/**
 * The model's inputs besides the image, built the same way in training and in sampling.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The time input of the network for 0-based timestep t: (t + 1) / T, i.e. the reference's
 * i / n_T for its 1-based step i, so the network sees values in (0, 1].
 */
export function modelTime(t: number, numTrainTimesteps: number): number {
  return (t + 1) / numTrainTimesteps;
}

/** [B, 1] time, [B, K] one-hot classes and [B, 1] drop mask (1 = unconditional), as tensors. */
export function conditionTensors(timesteps: ArrayLike<number>, labels: ArrayLike<number>, drop: ArrayLike<number>, numTrainTimesteps: number, nClasses: number): { t: tf.Tensor2D; c: tf.Tensor2D; mask: tf.Tensor2D } {
  const b = labels.length;
  if (timesteps.length !== b || drop.length !== b) throw new Error(`conditions: ${timesteps.length} timesteps, ${b} labels and ${drop.length} mask values must agree`);
  const tv = new Float32Array(b), cv = new Float32Array(b * nClasses), mv = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    const label = labels[i] as number;
    if (!Number.isInteger(label) || label < 0 || label >= nClasses) throw new Error(`conditions: label ${label} outside 0..${nClasses - 1}`);
    tv[i] = modelTime(timesteps[i] as number, numTrainTimesteps);
    cv[i * nClasses + label] = 1;
    mv[i] = drop[i] as number;
  }
  return { t: tf.tensor2d(tv, [b, 1]), c: tf.tensor2d(cv, [b, nClasses]), mask: tf.tensor2d(mv, [b, 1]) };
}
