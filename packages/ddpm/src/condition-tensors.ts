/** The conditions of a batch as the model's input tensors (training). */
import * as tf from '@tensorflow/tfjs';
import { conditionArrays } from './conditioning';

/** conditionArrays as the model's [B, 1], [B, K] and [B, 1] input tensors. */
export function conditionTensors(
  timesteps: ArrayLike<number>,
  labels: ArrayLike<number>,
  drop: ArrayLike<number>,
  numTrainTimesteps: number,
  nClasses: number,
): { t: tf.Tensor2D; c: tf.Tensor2D; mask: tf.Tensor2D } {
  const a = conditionArrays(timesteps, labels, drop, numTrainTimesteps, nClasses);
  const b = labels.length;
  return { t: tf.tensor2d(a.t, [b, 1]), c: tf.tensor2d(a.c, [b, nClasses]), mask: tf.tensor2d(a.mask, [b, 1]) };
}
