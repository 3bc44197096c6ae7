import * as tf from '@tensorflow/tfjs';
import { Rng, setupEngine } from '@dlcv/core';
import { applyBatchNorm, batchNorm, conv2d, dropout2dMask, linear, updateRunningStats, type BatchMoments, type ParamStore } from './nn';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

const store = (): ParamStore => ({ trainable: [], buffers: [] });
let uid = 0;
const name = (s: string) => `nn-test-${uid++}/${s}`;

describe('batch norm (training)', () => {
  it('normalises with the batch mean and biased variance', async () => {
    const bn = batchNorm(store(), name('bn'), 1);
    bn.gamma.assign(tf.tensor1d([2]));
    bn.beta.assign(tf.tensor1d([0.5]));
    const x = tf.tensor2d([[1], [2], [3], [4]]);
    const y = applyBatchNorm(bn, x, true);
    // mean 2.5, biased variance 1.25: y = 2 (x - 2.5) / sqrt(1.25 + 1e-5) + 0.5
    const want = [1, 2, 3, 4].map((v) => (2 * (v - 2.5)) / Math.sqrt(1.25 + 1e-5) + 0.5);
    Array.from(await y.data()).forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 5));
  });

  it('has the gradient of the op-by-op formula (x, gamma and beta)', async () => {
    const s = store();
    const bn = batchNorm(s, name('bn'), 3);
    const rng = new Rng(5);
    bn.gamma.assign(tf.tensor1d(rng.uniformArray(3, 0.5, 1.5)));
    bn.beta.assign(tf.tensor1d(rng.uniformArray(3, -1, 1)));
    const x = tf.tensor4d(rng.normalArray(4 * 2 * 2 * 3, 2, 1), [4, 2, 2, 3]);
    const w = tf.tensor4d(rng.normalArray(4 * 2 * 2 * 3), [4, 2, 2, 3]);
    const reference = (v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const mean = tf.mean(v, [0, 1, 2]);
      const variance = tf.mean(tf.square(tf.sub(v, mean)), [0, 1, 2]);
      return tf.add(tf.mul(tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    };
    const lossOurs = (v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const tmp = batchNorm(store(), name('tmp'), 3);
      tmp.gamma.assign(g);
      tmp.beta.assign(b);
      return tf.sum(tf.mul(w, applyBatchNorm(tmp, v, true)));
    };
    const [gx] = tf.grads((v: tf.Tensor) => lossOurs(v, bn.gamma, bn.beta))([x]);
    const [rx, rg, rb] = tf.grads((v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(w, reference(v, g, b))))([x, bn.gamma, bn.beta]);
    const close = async (a: tf.Tensor, b: tf.Tensor) => {
      const av = await a.data(),
        bv = await b.data();
      expect(av.length).toBe(bv.length);
      av.forEach((v, i) => expect(v).toBeCloseTo(bv[i] as number, 4));
    };
    await close(gx as tf.Tensor, rx as tf.Tensor);
    // gamma and beta through the variables themselves
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(w, applyBatchNorm(bn, x, true))) as tf.Scalar, [bn.gamma, bn.beta]);
    await close(grads[bn.gamma.name] as tf.Tensor, rg as tf.Tensor);
    await close(grads[bn.beta.name] as tf.Tensor, rb as tf.Tensor);
  });

  it('folds batch moments into running averages with momentum 0.1 and the unbiased variance', async () => {
    const bn = batchNorm(store(), name('bn'), 1);
    const moments: BatchMoments[] = [];
    tf.tidy(() => {
      applyBatchNorm(bn, tf.tensor2d([[1], [2], [3], [4]]), true, moments);
    });
    expect(moments).toHaveLength(1);
    updateRunningStats(moments);
    // mean 2.5, unbiased variance 5/3: 0.9 * 0 + 0.1 * 2.5, 0.9 * 1 + 0.1 * 5/3
    expect((await bn.runningMean.data())[0]).toBeCloseTo(0.25, 6);
    expect((await bn.runningVar.data())[0]).toBeCloseTo(0.9 + 0.1 * (5 / 3), 6);
    // evaluation uses the running statistics: (x - 0.25) / sqrt(var + eps)
    const y = applyBatchNorm(bn, tf.tensor2d([[1]]), false);
    expect((await y.data())[0]).toBeCloseTo(0.75 / Math.sqrt(0.9 + 0.1 * (5 / 3) + 1e-5), 5);
  });

  it('two layers at once, and a layer listed twice gets its two updates one after the other', async () => {
    const [a, b] = [batchNorm(store(), name('bn'), 1), batchNorm(store(), name('bn'), 1)];
    const moments: BatchMoments[] = [];
    tf.tidy(() => {
      applyBatchNorm(a, tf.tensor2d([[1], [2], [3], [4]]), true, moments); // mean 2.5, unbiased var 5/3
      applyBatchNorm(b, tf.tensor2d([[0], [4]]), true, moments); // mean 2, unbiased var 8
      applyBatchNorm(a, tf.tensor2d([[10], [10]]), true, moments); // mean 10, var 0
    });
    updateRunningStats(moments);
    expect((await a.runningMean.data())[0]).toBeCloseTo(0.9 * 0.25 + 0.1 * 10, 5);
    expect((await a.runningVar.data())[0]).toBeCloseTo(0.9 * (0.9 + 0.1 * (5 / 3)), 5);
    expect((await b.runningMean.data())[0]).toBeCloseTo(0.2, 6);
    expect((await b.runningVar.data())[0]).toBeCloseTo(0.9 + 0.1 * 8, 6);
  });
});

describe('dropout2d masks', () => {
  it('zero whole channels per sample and scale the rest by 1/(1-p)', async () => {
    const m = dropout2dMask(new Rng(1), 50, 40, 0.5);
    expect(m.shape).toEqual([50, 1, 1, 40]);
    const v = Array.from(await m.data());
    expect(new Set(v)).toEqual(new Set([0, 2]));
    const dropped = v.filter((x) => x === 0).length / v.length;
    // 2000 Bernoulli(0.5) draws: 5 standard deviations is +-0.056
    expect(Math.abs(dropped - 0.5)).toBeLessThan(0.056);
  });
  it('are the same for the same rng state', async () => {
    const a = await dropout2dMask(new Rng(9), 4, 6, 0.3).data();
    const b = await dropout2dMask(new Rng(9), 4, 6, 0.3).data();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
  it('commute with 2x2 max pooling (why the model applies them after pooling)', async () => {
    const rng = new Rng(4);
    const x = tf.relu(tf.tensor4d(rng.normalArray(2 * 4 * 4 * 3), [2, 4, 4, 3]));
    const mask = dropout2dMask(rng, 2, 3, 0.5);
    const before = await tf.maxPool(tf.mul(x, mask) as tf.Tensor4D, 2, 2, 'valid').data();
    const after = await tf.mul(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), mask).data();
    expect(Array.from(after)).toEqual(Array.from(before));
  });
  it('reject p outside [0, 1)', () => {
    expect(() => dropout2dMask(new Rng(1), 1, 1, 1)).toThrow(/p must be/);
  });
});

describe('PyTorch-style init', () => {
  it('draws conv and linear weights and biases within 1/sqrt(fan_in), from the rng', async () => {
    const s = store();
    const conv = conv2d(new Rng(2), s, name('conv'), 3, 5);
    const lin = linear(new Rng(2), s, name('lin'), 16, 4);
    const within = async (v: tf.Variable, bound: number) => {
      const d = await v.data();
      expect(Math.max(...Array.from(d).map(Math.abs))).toBeLessThanOrEqual(bound);
      // spread over the interval, not a constant
      expect(Math.max(...Array.from(d)) - Math.min(...Array.from(d))).toBeGreaterThan(bound / 2);
    };
    await within(conv.kernel, 1 / Math.sqrt(27));
    await within(conv.bias, 1 / Math.sqrt(27));
    await within(lin.weight, 1 / 4);
    expect(conv.kernel.shape).toEqual([3, 3, 3, 5]);
    expect(s.trainable).toHaveLength(4);
    const again = conv2d(new Rng(2), store(), name('conv'), 3, 5);
    expect(Array.from(await again.kernel.data())).toEqual(Array.from(await conv.kernel.data()));
  });
});
