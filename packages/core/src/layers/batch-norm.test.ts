import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { setupEngine } from '../engine/engine';
import { BatchNorm2d } from './batch-norm';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

// x [n=2, h=2, w=2, c=2]: channel 0 = 0..7, channel 1 = 10 * (0..7) + 1
const N = 8;
const ch0 = Array.from({ length: N }, (_, i) => i);
const ch1 = ch0.map((v) => 10 * v + 1);
const x = () =>
  tf.tensor4d(
    ch0.flatMap((v, i) => [v, ch1[i] as number]),
    [2, 2, 2, 2],
  );
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const biasedVar = (a: number[]) => mean(a.map((v) => (v - mean(a)) ** 2));

function layer(): BatchNorm2d {
  const bn = new BatchNorm2d({ numFeatures: 2, inputShape: [2, 2, 2] });
  tf.sequential({ layers: [bn] }); // builds it
  return bn;
}

describe('BatchNorm2d (PyTorch semantics)', () => {
  it('training mode normalises each channel with the biased batch variance', () => {
    const bn = layer();
    const y = (bn.apply(x(), { training: true }) as tf.Tensor).dataSync();
    for (const [c, vals] of [ch0, ch1].entries()) {
      vals.forEach((v, i) => expect(y[2 * i + c]).toBeCloseTo((v - mean(vals)) / Math.sqrt(biasedVar(vals) + 1e-5), 4));
    }
  });

  it('running statistics: (1 - 0.1) old + 0.1 batch, with the unbiased variance', () => {
    const bn = layer();
    bn.apply(x(), { training: true });
    const [, , rm, rv] = bn.getWeights().map((w) => Array.from(w.dataSync()));
    const unbiased = (a: number[]) => (biasedVar(a) * a.length) / (a.length - 1);
    expect(rm?.[0]).toBeCloseTo(0.1 * mean(ch0), 5);
    expect(rm?.[1]).toBeCloseTo(0.1 * mean(ch1), 4);
    expect(rv?.[0]).toBeCloseTo(0.9 + 0.1 * unbiased(ch0), 4);
    expect(rv?.[1]).toBeCloseTo(0.9 + 0.1 * unbiased(ch1), 3);
  });

  it('training-mode calls leave no tensor behind, and the layer holds only its weights', () => {
    const bn = new BatchNorm2d({ numFeatures: 2, inputShape: [2, 2, 2] });
    const model = tf.sequential({ layers: [bn] });
    const input = x();
    tf.dispose(bn.apply(input, { training: true }) as tf.Tensor);
    const after = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(bn.apply(input, { training: true }) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(after);
    // the running mean after 4 updates of channel 0 (mean 3.5): 3.5 (1 - 0.9^4), as with numbers
    expect(bn.getWeights()[2]!.dataSync()[0]).toBeCloseTo(3.5 * (1 - 0.9 ** 4), 5);
    model.dispose();
    // its 4 weights (the running statistics' factors are numbers)
    expect(after - tf.memory().numTensors).toBe(4);
    input.dispose();
  });

  it('eval mode uses the running statistics, and frozen updates leave them alone', () => {
    const bn = layer();
    bn.setWeights([tf.tensor1d([2, 3]), tf.tensor1d([0.5, -1]), tf.tensor1d([1, 2]), tf.tensor1d([4, 9])]);
    const y = (bn.apply(x(), { training: false }) as tf.Tensor).dataSync();
    expect(y[2]).toBeCloseTo(((1 - 1) / Math.sqrt(4 + 1e-5)) * 2 + 0.5, 5);
    expect(y[3]).toBeCloseTo(((11 - 2) / Math.sqrt(9 + 1e-5)) * 3 - 1, 4);
    bn.updateRunningStats = false;
    bn.apply(x(), { training: true });
    const [, , rm, rv] = bn.getWeights().map((w) => Array.from(w.dataSync()));
    expect(rm).toEqual([1, 2]);
    expect(rv).toEqual([4, 9]);
  });

  it('its input gradient matches central finite differences', () => {
    const bn = layer();
    bn.setWeights([tf.tensor1d([1.5, 0.7]), tf.tensor1d([0.1, 0.2]), tf.tensor1d([0, 0]), tf.tensor1d([1, 1])]);
    bn.updateRunningStats = false;
    const rng = new Rng(7);
    const x0 = rng.uniformArray(16, -1, 1);
    const w = tf.tensor4d(rng.uniformArray(16, -1, 1), [2, 2, 2, 2]);
    // A weighted sum, so the gradient is not the trivial zero of sum(BN(x)).
    const f = (xs: tf.Tensor) => tf.sum(tf.mul(bn.apply(xs, { training: true }) as tf.Tensor, w)) as tf.Scalar;
    const grad = tf
      .grad(f)(tf.tensor4d(x0, [2, 2, 2, 2]))
      .dataSync();
    const h = 1e-2;
    for (let i = 0; i < 16; i++) {
      const plus = Float32Array.from(x0),
        minus = Float32Array.from(x0);
      plus[i] = (plus[i] as number) + h;
      minus[i] = (minus[i] as number) - h;
      const numeric = (f(tf.tensor4d(plus, [2, 2, 2, 2])).dataSync()[0]! - f(tf.tensor4d(minus, [2, 2, 2, 2])).dataSync()[0]!) / (2 * h);
      expect(grad[i]).toBeCloseTo(numeric, 2);
    }
  });

  it('rejects an input with another channel count', () => {
    const bn = new BatchNorm2d({ numFeatures: 3 });
    expect(() => bn.apply(tf.zeros([1, 2, 2, 2]))).toThrow(/built for 3 channels, input has 2/);
  });
});
