import * as tf from '@tensorflow/tfjs';
import { Rng, setupEngine } from '@dlcv/core';
import { DannNet, REPORT_NET } from './model';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

describe('DannNet', () => {
  it('has the report networks\' parameter count and shapes: [n, 28, 28, 1] -> 1024 features, 10 class logits, 1 domain logit', () => {
    // No rng: zero weights (fast); the counts and shapes do not depend on the values.
    const net = new DannNet(REPORT_NET);
    // PyTorch's count for the printed modules, layer by layer:
    const extractor = (1 * 32 * 9 + 32) + 2 * 32 + (32 * 64 * 9 + 64) + 2 * 64 + (3136 * 1024 + 1024) + 2 * 1024;
    const label = (1024 * 50 + 50) + 2 * 50 + (50 * 10 + 10);
    const domain = (1024 * 50 + 50) + 2 * 50 + (50 * 1 + 1);
    expect(net.parameterCount()).toBe(extractor + label + domain);
    expect(net.trainable(false).reduce((n, v) => n + v.size, 0)).toBe(extractor + label);
    // running mean and variance of the five BatchNorms
    expect(net.allVariables().length - net.trainable(true).length).toBe(2 * 5);
    const x = tf.tensor4d(new Rng(1).uniformArray(2 * 28 * 28, -1, 1), [2, 28, 28, 1]);
    const f = net.features(x, { training: false });
    expect(f.shape).toEqual([2, 1024]);
    expect(net.classify(f, { training: false }).shape).toEqual([2, 10]);
    expect(net.domain(f, { training: false }).shape).toEqual([2, 1]);
    net.dispose();
  });

  it('evaluates each image independently of its batch, and trains only with an rng for dropout', async () => {
    const cfg = { ...REPORT_NET, imageSize: 8, conv1: 3, conv2: 4, features: 6, hidden: 5 };
    const net = new DannNet(cfg, new Rng(2));
    const x = tf.tensor4d(new Rng(3).uniformArray(3 * 64, -1, 1), [3, 8, 8, 1]);
    const all = await net.classify(net.features(x, { training: false }), { training: false }).data();
    const one = await net.classify(net.features(tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1]), { training: false }), { training: false }).data();
    Array.from(one).forEach((v, i) => expect(v).toBeCloseTo(all[10 + i] as number, 5));
    expect(() => net.features(x, { training: true })).toThrow(/needs an rng/);
    const a = await net.features(x, { training: true, rng: new Rng(5) }).data();
    const b = await net.features(x, { training: true, rng: new Rng(5) }).data();
    expect(Array.from(a)).toEqual(Array.from(b));
    net.dispose();
  });

  it('rejects an image size the two poolings cannot halve twice', () => {
    expect(() => new DannNet({ ...REPORT_NET, imageSize: 30 }, new Rng(0))).toThrow(/multiple of 4/);
  });
});
