import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '@dlcv/core';
import { createUnet } from './src/unet';
(async () => {
  await setupEngine({ engine: process.argv[2] });
  const n = Number(process.argv[3]), B = Number(process.argv[4]), S = Number(process.argv[5] ?? 28), G = Number(process.argv[6] ?? 8);
  const m = createUnet({ nFeat: n, inChannels: 3, nClasses: 10, imageSize: S, groups: G }, 0);
  const x = tf.randomNormal([B, S, S, 3]), t = tf.randomUniform([B, 1]), c = tf.oneHot(tf.zeros([B], 'int32'), 10).toFloat(), mask = tf.zeros([B, 1]);
  (m.apply([x, t, c, mask]) as tf.Tensor).dataSync();
  const t0 = Date.now();
  const info = await tf.profile(() => { (m.apply([x, t, c, mask]) as tf.Tensor).dataSync(); });
  console.log('total', Date.now() - t0);
  const agg = new Map<string, number>();
  for (const k of info.kernels) agg.set(k.name, (agg.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  console.log([...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k} ${v.toFixed(0)}`).join('\n'));
})();
