// Normalisation on every engine against the tfjs cpu backend: batch norm through tf.moments, and
// the fused batchNormTrain / groupNorm / gelu ops (their engine kernels) against tfjs compositions.
import * as tf from '@tensorflow/tfjs';

import { batchNormTrain, gelu, groupNorm, runningAverage, runningAverages } from '../../native';
import { rand } from '../test-utils/compare';
import { describeEachEngine } from '../test-utils/engines';

describeEachEngine('normalization', (engine) => {
  test('batchNorm (BN2d, BN1d) forward and grads, via moments as in tf.layers training', () => {
    const bn = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const axes = x.shape.map((_, i) => i).slice(0, -1);
      const { mean, variance } = tf.moments(x, axes);
      return tf.batchNorm(x, mean, variance, b, g, 1e-5);
    };
    engine.check('bn2d', [rand([4, 6, 6, 8], 1), rand([8], 2, 0.5, 1.5), rand([8], 3)], bn);
    engine.check('bn1d', [rand([32, 50], 1), rand([50], 2, 0.5, 1.5), rand([50], 3)], bn);
    engine.check('bn inference', [rand([4, 6, 6, 8], 1), rand([8], 2), rand([8], 3, 0.5, 1.5)], (x, m, v) => tf.batchNorm(x, m, v, undefined, undefined, 1e-3), { grad: false });
    engine.check(
      'bn inference, rank 3, scale without offset',
      [rand([3, 5, 8], 4), rand([8], 5), rand([8], 6, 0.5, 1.5), rand([8], 7)],
      (x, m, v, s) => tf.batchNorm(x, m, v, undefined, s, 1e-3),
      {
        grad: false,
      },
    );
  });
  test('GroupNorm pieces (reshape + moments over non-contiguous axes)', () => {
    const gn = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const [n, h, w, c] = x.shape as [number, number, number, number];
      const G = 4;
      const xr = tf.reshape(x, [n, h, w, G, c / G]);
      const { mean, variance } = tf.moments(xr, [1, 2, 4], true);
      const xn = tf.reshape(tf.div(tf.sub(xr, mean), tf.sqrt(tf.add(variance, 1e-5))), [n, h, w, c]);
      return tf.add(tf.mul(xn, g), b);
    };
    engine.check('groupnorm', [rand([2, 7, 7, 16], 1), rand([16], 2, 0.5, 1.5), rand([16], 3)], gn);
  });
  test('fused batchNormTrain (native kernel) against moments + batchNorm on cpu, with grads', () => {
    for (const shape of [
      [4, 6, 6, 8],
      [64, 50],
      [3, 5, 5, 130],
    ]) {
      const c = shape[shape.length - 1]!;
      engine.check(`bnTrain ${shape}`, [rand(shape, 1, -2, 3), rand([c], 2, 0.5, 1.5), rand([c], 3)], (x, g, b) => {
        const r = batchNormTrain(x, g, b, 1e-5);
        return r.y;
      });
      engine.check(
        `bnTrain stats ${shape}`,
        [rand(shape, 1, -2, 3), rand([c], 2, 0.5, 1.5), rand([c], 3)],
        (x, g, b) => {
          const r = batchNormTrain(x, g, b, 1e-5);
          return tf.concat([r.mean, r.variance]);
        },
        { grad: false },
      );
    }
  });
  test('fused groupNorm (native kernel) against an independent reshape + moments GroupNorm on cpu, with grads', () => {
    // reference: written out here, not the op's own fallback
    const ref = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, groups: number) => {
      const n = x.shape[0]!,
        c = x.shape[x.shape.length - 1]!;
      const xr = tf.reshape(x, [n, -1, groups, c / groups]);
      const { mean, variance } = tf.moments(xr, [1, 3], true);
      return tf.add(tf.mul(tf.reshape(tf.div(tf.sub(xr, mean), tf.sqrt(tf.add(variance, 1e-5))), x.shape), g), b);
    };
    // U-Net shapes (n_feat 16 stand-ins: 28x28, 14x14, 7x7), a group of one channel, rank 2, batch 1
    const cases: [number[], number][] = [
      [[3, 28, 28, 16], 8],
      [[2, 14, 14, 32], 8],
      [[4, 7, 7, 64], 8],
      [[2, 5, 5, 6], 6],
      [[5, 24], 4],
      [[1, 3, 3, 8], 2],
    ];
    for (const [shape, groups] of cases) {
      const c = shape[shape.length - 1]!;
      engine.check(`groupNorm ${shape} / ${groups}`, [rand(shape, 1, -2, 3), rand([c], 2, 0.5, 1.5), rand([c], 3)], (x, g, b) =>
        tf.getBackend() === 'cpu' ? ref(x, g, b, groups) : groupNorm(x, g as tf.Tensor1D, b as tf.Tensor1D, groups, 1e-5),
      );
    }
    // the native side above really ran the fused kernels, not the op's tfjs fallback
    expect(tf.getKernel('DlcvGroupNorm', engine.backend)).toBeDefined();
    expect(tf.getKernel('DlcvGroupNormGrad', engine.backend)).toBeDefined();
  });
  test('fused runningAverage: the same bits as mul, mul, mul, add on cpu', () => {
    // BatchNorm's factors (momentum 0.1, n / (n - 1) for 2x3x3), the EMA's (decay 0.995), and
    // the cumulative mode's 1 / k
    const cases: [number[], number, number, number | undefined][] = [
      [[8], 0.9, 0.1, 18 / 17],
      [[8], 0.9, 0.1, undefined],
      [[3, 3, 4, 6], 0.995, 1 - 0.995, undefined],
      [[130], 2 / 3, 1 / 3, 50 / 49],
    ];
    const bitsOf = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
    for (const [shape, keep, take, scale] of cases) {
      const run = (backend: string, fused: boolean) => {
        tf.setBackend(backend);
        return tf.tidy(() => {
          const size = shape.reduce((a, b) => a * b, 1);
          const running = tf.tensor(
            Float32Array.from({ length: size }, (_, i) => Math.sin(i + 1) * 3),
            shape,
          );
          const value = tf.tensor(
            Float32Array.from({ length: size }, (_, i) => Math.cos(i * 0.7) * 5 + 0.1),
            shape,
          );
          const [k, t, s] = [keep, take, scale].map((f) => (f === undefined ? undefined : tf.scalar(f)));
          const out = fused ? runningAverage(running, value, k!, t!, s) : tf.add(tf.mul(running, k!), tf.mul(s ? tf.mul(value, s) : value, t!));
          return bitsOf(out);
        });
      };
      const expected = run('cpu', false);
      expect(run(engine.backend, true)).toEqual(expected);
    }
    expect(tf.getKernel('DlcvRunningAverage', engine.backend)).toBeDefined();
    tf.setBackend(engine.backend);
    expect(() => runningAverage(tf.zeros([3]), tf.zeros([4]), tf.scalar(0.9), tf.scalar(0.1))).toThrow(/differ in shape/);
    expect(() => runningAverage(tf.zeros([3]), tf.zeros([3]), tf.zeros([1]) as unknown as tf.Scalar, tf.scalar(0.1))).toThrow(/scalars/);
  });
  test('fused runningAverages: each output the same bits as runningAverage with tf.scalar factors on cpu, the list in one kernel', async () => {
    // the ddpm EMA's shapes (a conv kernel, a bias, a dense matrix) and odd ones, a scalar among them
    const shapes = [[3, 3, 8, 16], [16], [40, 24], [], [7, 1, 5]];
    const bitsOf = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
    const make = (shape: number[], seed: number) => {
      const size = shape.reduce((a, b) => a * b, 1);
      return tf.tensor(
        Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37 + seed) * (1 + seed)),
        shape,
      );
    };
    // the EMA's warm-up decay at update 3, its decay, a factor that float32 rounds
    for (const keep of [4 / 13, 0.999, 2 / 3]) {
      const run = (backend: string, list: boolean) => {
        tf.setBackend(backend);
        return tf.tidy(() => {
          const runnings = shapes.map((shape, i) => make(shape, i));
          const values = shapes.map((shape, i) => make(shape, i + 10));
          const out = list ? runningAverages(runnings, values, keep, 1 - keep) : runnings.map((r, i) => runningAverage(r, values[i]!, tf.scalar(keep), tf.scalar(1 - keep)));
          out.forEach((o, i) => expect(o.shape).toEqual(shapes[i]));
          return out.map(bitsOf);
        });
      };
      const expected = run('cpu', false);
      expect(run(engine.backend, true)).toEqual(expected);
    }
    // a BatchNorm's mean and variance: the variance scaled by n / (n - 1), the mean by 1, against
    // runningAverage with and without its scale
    const bn = (backend: string, list: boolean) => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const [rm, rv, mean, variance] = [0, 1, 2, 3].map((seed) => make([6], seed));
        const out = list
          ? runningAverages([rm!, rv!], [mean!, variance!], 0.9, 0.1, [1, 18 / 17])
          : [runningAverage(rm!, mean!, tf.scalar(0.9), tf.scalar(0.1)), runningAverage(rv!, variance!, tf.scalar(0.9), tf.scalar(0.1), tf.scalar(18 / 17))];
        return out.map(bitsOf);
      });
    };
    expect(bn(engine.backend, true)).toEqual(bn('cpu', false));
    tf.setBackend(engine.backend);
    expect(tf.getKernel('DlcvRunningAverages', engine.backend)).toBeDefined();
    expect(() => runningAverages([tf.zeros([3])], [tf.zeros([3])], 0.9, 0.1, [1, 2])).toThrow(/2 scales for 1 values/);
    const profile = await tf.profile(() => tf.dispose(runningAverages([tf.ones([4]), tf.ones([2, 2])], [tf.zeros([4]), tf.zeros([2, 2])], 0.5, 0.5)));
    expect(profile.kernels.map((k) => k.name)).toEqual(['DlcvRunningAverages']);
    expect(runningAverages([], [], 0.9, 0.1)).toEqual([]);
    expect(() => runningAverages([tf.zeros([3])], [], 0.9, 0.1)).toThrow(/1 running tensors, 0 values/);
    expect(() => runningAverages([tf.zeros([3]), tf.zeros([2])], [tf.zeros([3]), tf.zeros([3])], 0.9, 0.1)).toThrow(/running 1 \[2\] and its value \[3\] differ in shape/);
  });
  test('fused gelu against the erf composition on cpu, with grads', () => {
    engine.check('gelu op', [rand([2, 7, 7, 16], 1, -4, 4)], (x) => gelu(x));
  });
  test('GELU (exact, via erf) as in the U-Net', () => {
    engine.check('gelu', [rand([2, 7, 7, 16], 1, -3, 3)], (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))));
  });
});
