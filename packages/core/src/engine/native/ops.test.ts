// The public fused ops on a backend without their fused kernels: the tfjs compositions.
import * as tf from '@tensorflow/tfjs';

import { groupNorm } from './index';

describe('groupNorm op on a backend without the fused kernel (tfjs composition)', () => {
  test('matches the closed form per sample and group', () => {
    tf.setBackend('cpu');
    // one sample, 2x1 positions, 4 channels in 2 groups: group 0 = {1, 2, 3, 4}, group 1 = {10, 30, 20, 40}
    const x = tf.tensor4d([1, 2, 10, 20, 3, 4, 30, 40], [1, 2, 1, 4]);
    const y = groupNorm(x, tf.tensor1d([1, 2, 1, 1]), tf.tensor1d([0, 0, 0, 5]), 2, 0).dataSync();
    const z = (v: number, m: number, varr: number) => (v - m) / Math.sqrt(varr);
    const expected = [z(1, 2.5, 1.25), 2 * z(2, 2.5, 1.25), z(10, 25, 125), z(20, 25, 125) + 5, z(3, 2.5, 1.25), 2 * z(4, 2.5, 1.25), z(30, 25, 125), z(40, 25, 125) + 5];
    expected.forEach((e, i) => expect(y[i]).toBeCloseTo(e, 5));
  });
  test('rejects a channel count the groups do not divide', () => {
    tf.setBackend('cpu');
    expect(() => groupNorm(tf.zeros([1, 2, 2, 6]), tf.ones([6]) as tf.Tensor1D, tf.zeros([6]) as tf.Tensor1D, 4)).toThrow(/6 channels cannot be split into 4 groups/);
  });
});
