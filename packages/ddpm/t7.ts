import * as tf from '@tensorflow/tfjs';
import { setupEngine, describeEngine } from '@dlcv/core';
import { createUnet } from './src/unet';
import { useFastCpuKernels } from './src/kernels/conv2d-backprop-filter';
(async () => {
  const eng = await setupEngine({ engine: process.argv[2] }); useFastCpuKernels();
  const n = Number(process.argv[3]), B = Number(process.argv[4]), FB = Number(process.argv[5]), reps = 3;
  const m = createUnet({ nFeat: n, inChannels: 3, nClasses: 10, imageSize: 28, groups: 8 }, 0);
  const opt = tf.train.adam(1e-4);
  const mk = (b: number) => [tf.randomNormal([b, 28, 28, 3]), tf.randomUniform([b, 1]), tf.oneHot(tf.zeros([b], 'int32'), 10).toFloat(), tf.zeros([b, 1])];
  const xin = mk(B); const y = tf.randomNormal([B, 28, 28, 3]);
  const ts: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const t0 = Date.now();
    const loss = opt.minimize(() => tf.losses.meanSquaredError(y, m.apply(xin, { training: true }) as tf.Tensor), true) as tf.Scalar;
    loss.dataSync(); loss.dispose(); if (i > 0) ts.push((Date.now() - t0) / 1000);
  }
  const fin = mk(FB); const fs: number[] = [];
  for (let i = 0; i < 3; i++) { const t0 = Date.now(); const o = m.apply(fin) as tf.Tensor; o.dataSync(); o.dispose(); if (i > 0) fs.push((Date.now() - t0) / 1000); }
  console.log(`${eng.engine} n_feat ${n}: train step b${B} ${ts.map((v) => v.toFixed(2)).join(' ')} s; forward b${FB} ${fs.map((v) => v.toFixed(2)).join(' ')} s`);
})();
