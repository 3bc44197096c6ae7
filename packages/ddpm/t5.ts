import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '@dlcv/core';
import { createUnet } from './src/unet';
(async () => {
  await setupEngine({ engine: 'cpu' });
  const n = 8, B = 8, S = 12;
  const m = createUnet({ nFeat: n, inChannels: 3, nClasses: 10, imageSize: S, groups: 2 }, 0);
  const opt = tf.train.adam(1e-4);
  const x = tf.randomNormal([B, S, S, 3]), t = tf.randomUniform([B, 1]), c = tf.oneHot(tf.zeros([B], 'int32'), 10).toFloat(), mask = tf.zeros([B, 1]);
  const info = await tf.profile(() => {
    const loss = opt.minimize(() => tf.losses.meanSquaredError(x, m.apply([x, t, c, mask], { training: true }) as tf.Tensor), true) as tf.Scalar;
    loss.dataSync();
  });
  for (const k of info.kernels) if (k.name === 'Conv2DBackpropFilter') console.log((k.kernelTimeMs as number).toFixed(0), JSON.stringify(k.inputShapes), JSON.stringify(k.outputShapes));
})();
