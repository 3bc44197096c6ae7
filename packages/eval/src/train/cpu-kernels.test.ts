import * as tf from '@tensorflow/tfjs';
import { Rng, setupEngine } from '@dlcv/core';
import { useFastCpuKernels } from './cpu-kernels';

const rand = (shape: number[], seed: number) => tf.tensor(new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1)), shape);

test('the fast filter gradient equals the stock cpu kernel for valid/same padding and strides', async () => {
  await setupEngine({ engine: 'cpu' });
  const cases: { x: number[]; f: number[]; s: number; pad: 'valid' | 'same' }[] = [
    { x: [2, 9, 8, 3], f: [5, 5, 3, 4], s: 1, pad: 'valid' },
    { x: [3, 7, 7, 2], f: [3, 3, 2, 5], s: 2, pad: 'same' },
    { x: [1, 6, 5, 4], f: [4, 2, 4, 3], s: 2, pad: 'valid' },
    { x: [2, 5, 6, 1], f: [4, 4, 1, 2], s: 1, pad: 'same' },
  ];
  const grads = () =>
    cases.map((c, i) => {
      const x = rand(c.x, i), f = rand(c.f, 100 + i);
      const out = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad);
      const dy = rand(out.shape, 200 + i);
      // d/df of sum(conv(x, f) * dy) is Conv2DBackpropFilter(x, dy).
      const g = tf.grad((ff: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, ff as tf.Tensor4D, c.s, c.pad), dy)))(f);
      return Array.from(g.dataSync());
    });
  const stock = grads();
  expect(useFastCpuKernels()).toBe(true);
  const fast = grads();
  stock.forEach((s, i) => {
    const f = fast[i] as number[];
    expect(f).toHaveLength(s.length);
    s.forEach((v, k) => expect(Math.abs((f[k] as number) - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
  });
});
