/** The conditions of a batch as the model's input tensors (training). */
import * as tf from '@tensorflow/tfjs';
import { conditionArrays, type ConditionArrays } from './conditioning';

export interface ConditionTensors {
  t: tf.Tensor2D;
  c: tf.Tensor2D;
  mask: tf.Tensor2D;
}

/** Condition arrays of a batch as the model's [B, 1], [B, K] and [B, 1] input tensors. */
export function tensorsOfConditions(a: ConditionArrays, nClasses: number): ConditionTensors {
  const b = a.t.length;
  return { t: tf.tensor2d(a.t, [b, 1]), c: tf.tensor2d(a.c, [b, nClasses]), mask: tf.tensor2d(a.mask, [b, 1]) };
}

/** conditionArrays as the model's [B, 1], [B, K] and [B, 1] input tensors. */
export function conditionTensors(timesteps: ArrayLike<number>, labels: ArrayLike<number>, drop: ArrayLike<number>, numTrainTimesteps: number, nClasses: number): ConditionTensors {
  return tensorsOfConditions(conditionArrays(timesteps, labels, drop, numTrainTimesteps, nClasses), nClasses);
}
