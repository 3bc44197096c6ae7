// Whole steps on every engine against the tfjs cpu backend: the fused Adam update, a DCGAN-style
// model's gradients, and that the hot kernels ran on the engine (no silent fallbacks).
import * as tf from '@tensorflow/tfjs';

import { gelu, groupNorm } from '../../native';
import { rand, relErr, TOL } from '../test-utils/compare';
import { describeEachEngine, expectNoFallbacks } from '../test-utils/engines';

describeEachEngine('registration', (engine) => {
  test('every cpu kernel is available on the engine', () => {
    const cpu = new Set(tf.getKernelsForBackend('cpu').map((k) => k.kernelName));
    const got = new Set(tf.getKernelsForBackend(engine.backend).map((k) => k.kernelName));
    for (const k of cpu) expect(got.has(k)).toBe(true);
  });
});

describeEachEngine('optimizer and full model', (engine) => {
  test('fused Adam matches tfjs Adam over 3 steps', () => {
    const run = (backend: string) => {
      tf.setBackend(backend);
      const w = tf.variable(tf.tensor(rand([50, 40], 1).data, [50, 40]), true, `adam_w_${backend}`);
      const b = tf.variable(tf.tensor(rand([40], 2).data, [40]), true, `adam_b_${backend}`);
      const opt = tf.train.adam(0.01, 0.5, 0.999);
      const x = tf.tensor(rand([8, 50], 3).data, [8, 50]);
      for (let i = 0; i < 3; i++) opt.minimize(() => tf.sum(tf.square(tf.add(tf.matMul(x, w), b))) as tf.Scalar);
      const r = [w.dataSync().slice(), b.dataSync().slice()] as Float32Array[];
      tf.dispose([w, b, x]);
      opt.dispose();
      return r;
    };
    const ref = run('cpu');
    const got = run(engine.backend);
    expect(relErr(got[0]!, ref[0]!)).toBeLessThan(TOL);
    expect(relErr(got[1]!, ref[1]!)).toBeLessThan(TOL);
  });

  test('fused Adam with no gradients, then with one variable left out, steps as tfjs Adam', async () => {
    const run = async (backend: string) => {
      tf.setBackend(backend);
      const w = tf.variable(tf.tensor(rand([6, 4], 4).data, [6, 4]), true, `adam_gaps_w_${backend}`);
      const u = tf.variable(tf.tensor(rand([4], 5).data, [4]), true, `adam_gaps_u_${backend}`);
      const opt = tf.train.adam(0.05, 0.8, 0.99);
      const grad = tf.tensor(rand([6, 4], 6).data, [6, 4]);
      const ones = tf.onesLike(u);
      opt.applyGradients([]); // only the step count and the beta powers move
      opt.applyGradients([{ name: w.name, tensor: grad }]);
      opt.applyGradients([
        { name: w.name, tensor: grad },
        { name: u.name, tensor: ones },
      ]);
      const r = [w, u, ...(await opt.getWeights()).map((nt) => nt.tensor)].map((t) => t.dataSync().slice()) as Float32Array[];
      tf.dispose([w, u, grad, ones]);
      opt.dispose();
      return r;
    };
    const ref = await run('cpu');
    const got = await run(engine.backend);
    expect(got.length).toBe(7); // w, u, the step count, then w's and u's moments
    for (let i = 0; i < ref.length; i++) expect(relErr(got[i]!, ref[i]!)).toBeLessThan(TOL);
  });

  test('fused Adam steps as tfjs Adam after setWeights moves its step count', async () => {
    const run = async (backend: string) => {
      tf.setBackend(backend);
      const w = tf.variable(tf.tensor(rand([5, 3], 7).data, [5, 3]), true, `adam_restore_w_${backend}`);
      const opt = tf.train.adam(0.1, 0.9, 0.99);
      const grad = tf.tensor(rand([5, 3], 8).data, [5, 3]);
      opt.applyGradients([{ name: w.name, tensor: grad }]);
      opt.applyGradients([{ name: w.name, tensor: grad }]);
      // the saved state of step 2, restored as if at step 9: the beta powers become b^10
      const saved = await opt.getWeights();
      saved[0]!.tensor.dispose();
      saved[0] = { name: saved[0]!.name, tensor: tf.scalar(9, 'int32') };
      await opt.setWeights(saved);
      opt.applyGradients([{ name: w.name, tensor: grad }]);
      const r = w.dataSync().slice() as Float32Array;
      tf.dispose([w, grad, ...saved.map((nt) => nt.tensor)]);
      opt.dispose();
      return r;
    };
    const ref = await run('cpu');
    const got = await run(engine.backend);
    expect(relErr(got, ref)).toBeLessThan(TOL);
  });

  test('full model gradient check: DCGAN-style D and G (tf.layers, training mode)', () => {
    const build = () => {
      const g = tf.sequential({
        layers: [
          tf.layers.conv2dTranspose({ inputShape: [1, 1, 16], filters: 32, kernelSize: 4, strides: 1, padding: 'valid', useBias: false }),
          tf.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }),
          tf.layers.reLU(),
          tf.layers.conv2dTranspose({ filters: 16, kernelSize: 4, strides: 2, padding: 'same', useBias: false }),
          tf.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }),
          tf.layers.reLU(),
          tf.layers.conv2dTranspose({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', useBias: false, activation: 'tanh' }),
        ],
      });
      const dm = tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 16, kernelSize: 4, strides: 2, padding: 'same', useBias: false }),
          tf.layers.leakyReLU({ alpha: 0.2 }),
          tf.layers.conv2d({ filters: 32, kernelSize: 4, strides: 2, padding: 'same', useBias: false }),
          tf.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }),
          tf.layers.leakyReLU({ alpha: 0.2 }),
          tf.layers.conv2d({ filters: 1, kernelSize: 4, strides: 1, padding: 'valid', useBias: false, activation: 'sigmoid' }),
          tf.layers.flatten(),
        ],
      });
      return { g, dm };
    };
    const z = rand([4, 1, 1, 16], 11);
    let weights: Float32Array[] | null = null;
    const run = (backend: string) => {
      tf.setBackend(backend);
      const { g, dm } = build();
      const vars = [...g.trainableWeights, ...dm.trainableWeights].map((w) => w.read() as tf.Variable);
      if (!weights) weights = vars.map((v) => v.dataSync().slice() as Float32Array);
      else vars.forEach((v, i) => v.assign(tf.tensor(weights![i]!, v.shape)));
      const zt = tf.tensor(z.data, z.shape);
      const { value, grads } = tf.variableGrads(() => {
        const fake = g.apply(zt, { training: true }) as tf.Tensor;
        const p = dm.apply(fake, { training: true }) as tf.Tensor;
        return tf.losses.sigmoidCrossEntropy(tf.onesLike(p), p) as tf.Scalar;
      }, vars);
      const out = [value.dataSync().slice() as Float32Array, ...vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array)];
      tf.dispose([zt, value, ...Object.values(grads)]);
      g.dispose();
      dm.dispose();
      return out;
    };
    const ref = run('cpu');
    const got = run(engine.backend);
    ref.forEach((r, i) => expect(relErr(got[i]!, r)).toBeLessThan(TOL));
  });

  test('full model gradient check: U-Net-style block (conv, GroupNorm, GELU, max and avg pool, transposed conv, dense)', () => {
    const shapes: Record<string, number[]> = { w1: [3, 3, 3, 16], g: [16], b: [16], w2: [3, 3, 16, 16], wt: [2, 2, 8, 16], wd: [8, 10], bd: [10] };
    const run = (backend: string) => {
      tf.setBackend(backend);
      const vars = Object.entries(shapes).map(([name, shape], i) => tf.variable(tf.tensor(rand(shape, 20 + i, -0.4, 0.4).data, shape), true, `unet_${name}_${backend}`));
      const [w1, g, b, w2, wt, wd, bd] = vars as [
        tf.Variable<tf.Rank.R4>,
        tf.Variable<tf.Rank.R1>,
        tf.Variable<tf.Rank.R1>,
        tf.Variable<tf.Rank.R4>,
        tf.Variable<tf.Rank.R4>,
        tf.Variable<tf.Rank.R2>,
        tf.Variable<tf.Rank.R1>,
      ];
      const x = tf.tensor4d(rand([2, 14, 14, 3], 30).data, [2, 14, 14, 3]);
      const { value, grads } = tf.variableGrads(() => {
        const h = gelu(groupNorm(tf.conv2d(x, w1, 1, 'same'), g, b, 4)) as tf.Tensor4D;
        const down = tf.maxPool(tf.conv2d(h, w2, 1, 'same'), 2, 2, 'valid');
        const up = tf.relu(tf.conv2dTranspose(down, wt, [2, 14, 14, 8], 2, 'valid'));
        const v = tf.avgPool(up, 7, 7, 'valid').reshape([8, 8]);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([0, 3, 9, 1, 2, 5, 7, 4], 'int32'), 10), tf.add(tf.matMul(v, wd), bd)) as tf.Scalar;
      }, vars);
      const out = [value.dataSync().slice() as Float32Array, ...vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array)];
      tf.dispose([x, value, ...Object.values(grads), ...vars]);
      return out;
    };
    const ref = run('cpu');
    const got = run(engine.backend);
    ref.forEach((r, i) => expect(relErr(got[i]!, r)).toBeLessThan(TOL));
  });

  test('hot kernels ran on the engine (no silent fallbacks)', () => {
    const stats = engine.kernelStats();
    for (const k of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul', 'Add', 'Multiply', 'Sum', 'Mean']) {
      const s = stats.get(k);
      expect(s && s.native > 0).toBe(true);
    }
    expectNoFallbacks(engine, ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'FusedConv2D', 'MaxPool', 'MaxPoolGrad']);
  });
});
