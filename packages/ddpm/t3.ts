import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '@dlcv/core';
import { createUnet } from './src/unet';
import { useFastCpuKernels } from './src/kernels/conv2d-backprop-filter';
(async () => {
  await setupEngine({ engine: process.argv[2] }); useFastCpuKernels(); const nat = require('../core/dist/engine/native');
  const n = Number(process.argv[3]), B = Number(process.argv[4]), S = Number(process.argv[5] ?? 28), G = Number(process.argv[6] ?? 8);
  const m = createUnet({ nFeat: n, inChannels: 3, nClasses: 10, imageSize: S, groups: G }, 0);
  const opt = tf.train.adam(1e-4);
  const x = tf.randomNormal([B, S, S, 3]), t = tf.randomUniform([B, 1]), c = tf.oneHot(tf.zeros([B], 'int32'), 10).toFloat(), mask = tf.zeros([B, 1]);
  const info = await tf.profile(() => {
    const loss = opt.minimize(() => tf.losses.meanSquaredError(x, m.apply([x, t, c, mask], { training: true }) as tf.Tensor), true) as tf.Scalar;
    loss.dataSync();
  });
  const agg = new Map<string, number>();
  for (const k of info.kernels) agg.set(k.name, (agg.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  console.log([...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, 22).map(([k, v]) => `${k} ${v.toFixed(0)}`).join('\n'));
  const st = nat.nativeKernelStats?.(); if (st) console.log([...st.entries()].filter(([, v]: any) => v.fallback > 0).map(([k, v]: any) => `${k}: native ${v.native} fallback ${v.fallback} ${v.lastReason ?? ''}`).join('\n'));
})();
