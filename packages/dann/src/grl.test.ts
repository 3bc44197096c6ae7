import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '@dlcv/core';
import { gradientReversal, grlLambda } from './grl';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

describe('grlLambda', () => {
  it('follows 2/(1+exp(-10p)) - 1', () => {
    expect(grlLambda(0)).toBe(0);
    // p = 0.5: 2/(1+e^-5) - 1 = 0.98661429815...
    expect(grlLambda(0.5)).toBeCloseTo(0.9866142981514303, 12);
    expect(grlLambda(1)).toBeCloseTo(2 / (1 + Math.exp(-10)) - 1, 15);
    expect(grlLambda(0.1, 1)).toBeCloseTo(2 / (1 + Math.exp(-0.1)) - 1, 15);
  });
  it('rises monotonically from 0 towards 1', () => {
    let prev = -1;
    for (let i = 0; i <= 20; i++) {
      const v = grlLambda(i / 20);
      expect(v).toBeGreaterThan(prev);
      expect(v).toBeLessThan(1);
      prev = v;
    }
  });
  it('rejects progress outside [0, 1]', () => {
    expect(() => grlLambda(-0.1)).toThrow(/progress/);
    expect(() => grlLambda(1.5)).toThrow(/progress/);
    expect(() => grlLambda(NaN)).toThrow(/progress/);
  });
});

describe('gradientReversal', () => {
  it('is the identity forward', async () => {
    const x = tf.tensor2d([
      [1.5, -2, 3],
      [0, 4.25, -7],
    ]);
    const y = gradientReversal(x, 0.7);
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(await y.data())).toEqual([1.5, -2, 3, 0, 4.25, -7]);
  });

  it('multiplies the incoming gradient by -lambda', async () => {
    const x = tf.tensor1d([1, 2, 3]);
    const w = tf.tensor1d([0.5, -1, 4]);
    const lambda = 0.3;
    // loss = sum(w * GRL(x)^2): incoming gradient at the GRL output is 2 w x, so dx = -lambda * 2 w x.
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(w, tf.square(gradientReversal(v, lambda)))))(x);
    const got = Array.from(await g.data());
    const want = [1, 2, 3].map((xi, i) => -lambda * 2 * ([0.5, -1, 4][i] as number) * xi);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 6));
  });

  it('leaves the gradient of paths that bypass it untouched', async () => {
    const x = tf.scalar(2);
    // d/dx [3x + GRL(x) * 5] = 3 - lambda * 5
    const g = tf.grad((v: tf.Tensor) => tf.add(tf.mul(v, 3), tf.mul(gradientReversal(v, 0.4), 5)))(x);
    expect((await g.data())[0]).toBeCloseTo(3 - 0.4 * 5, 6);
  });

  it('with lambda 0 blocks the gradient', async () => {
    const g = tf.grad((v: tf.Tensor) => tf.sum(gradientReversal(v, 0)))(tf.tensor1d([1, 2]));
    expect(Array.from(await g.data()).map(Math.abs)).toEqual([0, 0]);
  });
});
