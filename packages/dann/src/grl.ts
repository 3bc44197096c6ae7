/**
 * Gradient reversal (Ganin & Lempitsky 2015): identity on the way forward, gradient times
 * -lambda on the way back, so the feature extractor is pushed to *confuse* the domain
 * classifier that sits behind it while the classifier itself learns normally.
 */
import * as tf from '@tensorflow/tfjs';
import { activeRecording, StepValue } from '@dlcv/core';

/** The paper's schedule lambda(p) = 2 / (1 + exp(-gamma p)) - 1, gamma = 10, p = progress in [0, 1]. */
export function grlLambda(progress: number, gamma = 10): number {
  if (!Number.isFinite(progress) || progress < 0 || progress > 1) throw new Error(`grlLambda: progress must be in [0, 1], got ${progress}`);
  return 2 / (1 + Math.exp(-gamma * progress)) - 1;
}

/**
 * x forward, -lambda * dy backward. lambda is a plain number (the schedule lives outside the
 * graph), or core's StepValue holding it: a replayed step (core's replayableStep) then multiplies
 * by the value of its own step's StepValue.
 */
export function gradientReversal<T extends tf.Tensor>(x: T, lambda: number | StepValue): T {
  const value = lambda instanceof StepValue ? lambda.value : lambda;
  if (!Number.isFinite(value)) throw new Error(`gradientReversal: lambda must be finite, got ${value}`);
  const op = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: (inputs[0] as tf.Tensor).clone(),
    gradFunc: (dy: tf.Tensor) => {
      const reversed = dy.mul(-value);
      // on the libtorch engine the multiply takes -lambda as a float32 number (binaryScalar's third argument)
      if (lambda instanceof StepValue)
        activeRecording()?.hookLastCall('binaryScalar', { dynamic: [2], uses: [lambda], replay: (context) => ({ args: [Math.fround(-context.current(lambda).value)] }) });
      return reversed;
    },
  }));
  return op(x) as T;
}
