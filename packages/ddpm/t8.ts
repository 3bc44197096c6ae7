import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '@dlcv/core';
import { createUnet } from './src/unet';
import { useFastCpuKernels } from './src/kernels/conv2d-backprop-filter';
(async () => {
  const eng = await setupEngine({ engine: process.argv[2] }); useFastCpuKernels();
  const n = Number(process.argv[3]), B = Number(process.argv[4]), FB = Number(process.argv[5]), reps = Number(process.argv[6] ?? 3);
  const m = createUnet({ nFeat: n, inChannels: 3, nClasses: 10, imageSize: 28, groups: 8 }, 0);
  const opt = tf.train.adam(1e-4);
  const mk = (b: number) => [tf.randomNormal([b, 28, 28, 3]), tf.randomUniform([b, 1]), tf.oneHot(tf.zeros([b], 'int32'), 10).toFloat(), tf.zeros([b, 1])];
  const xin = mk(B); const y = tf.randomNormal([B, 28, 28, 3]);
  const meas = async (fn: () => void, k: number) => { fn(); const w: number[] = [], c: number[] = []; for (let i = 0; i < k; i++) { const t0 = Date.now(), c0 = process.cpuUsage(); fn(); const cu = process.cpuUsage(c0); w.push((Date.now() - t0) / 1000); c.push((cu.user + cu.system) / 1e6); } w.sort(); c.sort(); return `wall ${w[k >> 1]!.toFixed(2)} s, cpu ${c[k >> 1]!.toFixed(2)} s`; };
  const tr = await meas(() => { const loss = opt.minimize(() => tf.losses.meanSquaredError(y, m.apply(xin, { training: true }) as tf.Tensor), true) as tf.Scalar; loss.dataSync(); loss.dispose(); }, reps);
  const fin = mk(FB);
  const fw = await meas(() => { const o = m.apply(fin) as tf.Tensor; o.dataSync(); o.dispose(); }, reps);
  console.log(`${eng.engine} n_feat ${n}: train step b${B}: ${tr}; forward b${FB}: ${fw}`);
})();
