import * as tf from '@tensorflow/tfjs';
import { setupEngine, describeEngine } from '@dlcv/core';
import { createUnet } from './src/unet';
(async () => {
  const eng = await setupEngine({ engine: process.argv[2] });
  console.log(describeEngine(eng));
  const n = Number(process.argv[3]), B = Number(process.argv[4]), reps = Number(process.argv[5] ?? 3);
  const m = createUnet({ nFeat: n, inChannels: 3, nClasses: 10, imageSize: 28, groups: 8 }, 0);
  const opt = tf.train.adam(1e-4);
  const x = tf.randomNormal([B, 28, 28, 3]), t = tf.randomUniform([B, 1]), c = tf.oneHot(tf.zeros([B], 'int32'), 10).toFloat(), mask = tf.zeros([B, 1]);
  const bnBefore = (m.getLayer('init_conv.conv1.1').getWeights()[2] as tf.Tensor).dataSync()[0];
  for (let i = 0; i < reps; i++) {
    const t0 = Date.now();
    const loss = opt.minimize(() => tf.losses.meanSquaredError(x, m.apply([x, t, c, mask], { training: true }) as tf.Tensor), true) as tf.Scalar;
    const v = loss.dataSync()[0]; loss.dispose();
    console.log('train step', (Date.now() - t0) / 1000, 's loss', v, 'tensors', tf.memory().numTensors);
  }
  console.log('bn moving mean changed:', bnBefore, (m.getLayer('init_conv.conv1.1').getWeights()[2] as tf.Tensor).dataSync()[0]);
  for (let i = 0; i < 2; i++) {
    const t0 = Date.now();
    const y = m.predict([x, t, c, mask]) as tf.Tensor; y.dataSync(); y.dispose();
    console.log('fwd', (Date.now() - t0) / 1000);
  }
})();
