import { openDigits, setupEngine } from '@dlcv/core';
import { makeDigitsFixture, tempDir } from './src/test-utils/fixtures';
import { train } from './src/trainer';
import { useFastCpuKernels } from './src/kernels/conv2d-backprop-filter';
import { resolveSchedulerConfig } from './src/schedulers';
(async () => {
  await setupEngine({ engine: 'cpu' }); useFastCpuKernels();
  const root = await makeDigitsFixture();
  const data = await openDigits(root, 'train', { size: 12 });
  const lr = Number(process.argv[2] ?? 3e-3);
  const t0 = Date.now();
  const r = await train({ runDir: await tempDir('t4-'), data, quiet: true, log: console.log, config: { preset: 'test', unet: { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 }, scheduler: resolveSchedulerConfig({ num_train_timesteps: 50 }), epochs: Number(process.argv[3] ?? 3), batchSize: 8, lr, pUncond: 0.1, emaDecay: 0.9, seed: 0, saveEvery: 1, sampling: { sampler: 'ddim', steps: 5, w: 1, eta: 0 }, preview: { perClass: 1, sampler: 'ddim', steps: 2, w: 1 } } });
  console.log((Date.now() - t0) / 1000, 's', r.losses.map((l) => l.toFixed(3)).join(' '));
})();
