import * as os from 'node:os';
import type { EngineInfo } from '@dlcv/core';
import { defaultNoiseWorkers } from './commands/sampling';
import { workerNoise } from './noise-workers';
import { BatchNoise, DiffusionSampler, imageNoiseRng, type NoiseNet, type PrefetchingNoise } from './sampler';
import { makeScheduler } from './schedulers';
import type { UnetConfig } from './model';

const UNET: UnetConfig = { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 4, groups: 2 };
const PER = 4 * 4 * 3;

describe('worker noise', () => {
  test.each([
    [3, 7],
    [10, 3], // more workers than images: one image each
  ])('%i workers for %i images draw what BatchNoise draws, step after step', async (workers, images) => {
    const ids = Array.from({ length: images }, (_, i) => 5 * i + 2);
    const reference = new BatchNoise(ids.map((id) => imageNoiseRng(11, id)));
    const noise = workerNoise(workers)(11, ids) as PrefetchingNoise;
    try {
      for (const per of [PER, 2, PER]) {
        await noise.prefetch(per * images);
        expect(noise.normalArray(per * images)).toEqual(reference.normalArray(per * images));
      }
    } finally {
      await noise.close();
    }
  });

  test('normalArray needs a prefetch of that length; lengths must split over the images; a stopped worker and bad worker counts are refused', async () => {
    const noise = workerNoise(2)(0, [0, 1, 2]) as PrefetchingNoise;
    try {
      expect(() => noise.normalArray(6)).toThrow('worker noise: normalArray(6) without a prefetch of that length');
      await expect(noise.prefetch(7)).rejects.toThrow('worker noise: 7 values cannot be split over 3 images');
      await noise.prefetch(6);
      expect(() => noise.normalArray(9)).toThrow('without a prefetch of that length');
      expect(noise.normalArray(6)).toHaveLength(6);
    } finally {
      await noise.close();
    }
    // a worker that is gone fails the next draw instead of leaving it waiting
    await expect(noise.prefetch(6)).rejects.toThrow(/worker noise: a worker exited/);
    expect(() => workerNoise(0)).toThrow('workers must be a positive integer, got 0');
  });

  // A stand-in network whose output depends on x and the conditions, so the images depend on
  // every step's noise and prediction.
  const net: NoiseNet = {
    predict: async (x, cond) => {
      const per = x.length / cond.t.length;
      return x.map((v, i) => 0.3 * v + 0.01 * (cond.t[Math.floor(i / per)] as number) - 0.2 * (cond.mask[Math.floor(i / per)] as number));
    },
  };

  test.each([
    ['ddpm', 0],
    ['ddim', 0],
    ['ddim', 1],
  ] as const)('the sampler gives the same images with worker noise (%s, eta %d)', async (name, eta) => {
    const scheduler = makeScheduler(name, { num_train_timesteps: 30 }, { steps: name === 'ddpm' ? 30 : 6, eta });
    const sampler = new DiffusionSampler(net, scheduler, UNET);
    const req = { labels: [3, 1, 4, 1, 5], noiseIds: [0, 1, 2, 3, 4], seed: 9, w: 2 };
    const plain = await sampler.sample(req);
    const viaWorkers = await sampler.sample({ ...req, noise: workerNoise(2) });
    expect(viaWorkers).toHaveLength(5 * PER);
    expect(viaWorkers).toEqual(plain);
    // and the noise mattered: another seed gives other images
    expect(await sampler.sample({ ...req, seed: 10, noise: workerNoise(2) })).not.toEqual(plain);
  });

  test('sampling commands draw on workers by default only where the network runs on a GPU', () => {
    const engine = (gpu: boolean): EngineInfo => ({ engine: 'libtorch', backend: 'dlcv-torch', threads: 2, detail: '', gpu, skipped: [] });
    expect(defaultNoiseWorkers(undefined)).toBe(0);
    expect(defaultNoiseWorkers(engine(false))).toBe(0);
    expect(defaultNoiseWorkers(engine(true))).toBe(Math.max(1, Math.min(8, os.availableParallelism() - 1)));
  });
});
