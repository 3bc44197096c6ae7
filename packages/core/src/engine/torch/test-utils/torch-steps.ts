// Helpers of the libtorch engine's specs (torch.test.ts, op-queue.test.ts).
import * as tf from '@tensorflow/tfjs';

import { batchNormTrain, gelu, groupNorm } from '../../native';
import { rand } from '../../kernels/test-utils/compare';

/**
 * Wraps the active libtorch backend's addon functions `names` so each call is recorded by name in
 * `calls` (then runs as before); `restore` puts the originals back.
 */
export function recordAddonCalls(names: readonly string[]): { calls: string[]; restore: () => void } {
  const addon = (tf.backend() as unknown as { addon: Record<string, (...a: unknown[]) => unknown> }).addon;
  const calls: string[] = [];
  const originals = Object.fromEntries(names.map((name) => [name, addon[name]!]));
  for (const name of names) addon[name] = (...a: unknown[]) => (calls.push(name), originals[name]!.apply(addon, a));
  return { calls, restore: () => Object.assign(addon, originals) };
}

/** Three training steps of a small network (conv, GroupNorm, GELU, transposed conv, batch norm, avg pool, dense; Adam): the losses and the weights. */
export const trainingSteps = () =>
  tf.tidy(() => {
    const w1 = tf.variable(tf.tensor(rand([3, 3, 3, 8], 1, -0.3, 0.3).data, [3, 3, 3, 8]));
    const w2 = tf.variable(tf.tensor(rand([2, 2, 4, 8], 2, -0.3, 0.3).data, [2, 2, 4, 8]));
    const wd = tf.variable(tf.tensor(rand([4, 5], 3).data, [4, 5]));
    const g = tf.variable(tf.ones([8]) as tf.Tensor1D);
    const b = tf.variable(tf.zeros([8]) as tf.Tensor1D);
    const x = tf.tensor(rand([4, 6, 6, 3], 4).data, [4, 6, 6, 3]) as tf.Tensor4D;
    const opt = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let step = 0; step < 3; step++) {
      const loss = opt.minimize(() => {
        let h = gelu(groupNorm(tf.conv2d(x, w1 as tf.Tensor4D, 1, 'same'), g as tf.Tensor1D, b as tf.Tensor1D, 2));
        h = tf.conv2dTranspose(h as tf.Tensor4D, w2 as tf.Tensor4D, [4, 12, 12, 4], 2, 'valid');
        h = batchNormTrain(h, tf.ones([4]), tf.zeros([4])).y;
        const pooled = tf.avgPool(h as tf.Tensor4D, 12, 12, 'valid').reshape([4, 4]);
        return tf.mean(tf.square(tf.matMul(pooled, wd))) as tf.Scalar;
      }, true)!;
      losses.push(loss.dataSync()[0]!);
    }
    opt.dispose();
    return { losses, weights: [w1, w2, wd, g, b].map((v) => Array.from(v.dataSync())) };
  });
