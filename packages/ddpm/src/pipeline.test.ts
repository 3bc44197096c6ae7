import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '@dlcv/core';
import { conditionTensors } from './conditioning';
import { DiffusionPipeline, imageNoiseRng } from './pipeline';
import { makeScheduler } from './schedulers';
import { createUnet, type UnetConfig } from './unet';

const TINY: UnetConfig = { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 };
const PER = 12 * 12 * 3;

let model: tf.LayersModel;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  model = createUnet(TINY, 5);
});
afterAll(() => model.dispose());

describe('DiffusionPipeline', () => {
  test('guided prediction equals (1 + w) cond - w uncond of separate forwards', async () => {
    const pipe = new DiffusionPipeline(model, makeScheduler('ddim', { num_train_timesteps: 50 }, { steps: 5 }), TINY);
    const x = imageNoiseRng(0, 0).normalArray(2 * PER);
    const labels = [3, 8];
    const forward = async (mask: number) => {
      const c = conditionTensors([29, 29], labels, [mask, mask], 50, 10);
      const y = model.predict([tf.tensor4d(x, [2, 12, 12, 3]), c.t, c.c, c.mask]) as tf.Tensor;
      return y.data() as Promise<Float32Array>;
    };
    const [cond, uncond] = [await forward(0), await forward(1)];
    const guided = await pipe.predictNoise(x, 29, labels, 1.5);
    guided.forEach((v, i) => expect(v).toBeCloseTo(2.5 * (cond[i] as number) - 1.5 * (uncond[i] as number), 4));
    // w = 0 skips the unconditional half and is the conditional prediction.
    expect(Array.from(await pipe.predictNoise(x, 29, labels, 0))).toEqual(Array.from(cond));
  });

  test('an image depends on its noise id, not on the batch it is sampled in', async () => {
    const pipe = new DiffusionPipeline(model, makeScheduler('ddpm', { num_train_timesteps: 6 }), TINY);
    const together = await pipe.sample({ labels: [1, 2, 3], noiseIds: [0, 1, 2], seed: 4, w: 1 });
    const alone = await pipe.sample({ labels: [2], noiseIds: [1], seed: 4, w: 1 });
    Array.from(alone).forEach((v, i) => expect(v).toBeCloseTo(together[PER + i] as number, 5));
    const again = await pipe.sample({ labels: [1, 2, 3], noiseIds: [0, 1, 2], seed: 4, w: 1 });
    expect(Buffer.from(again.buffer).equals(Buffer.from(together.buffer))).toBe(true);
    const otherSeed = await pipe.sample({ labels: [2], noiseIds: [1], seed: 5, w: 1 });
    expect(Array.from(otherSeed)).not.toEqual(Array.from(alone));
  });

  test('the loop visits every timestep of the schedule once, in order', async () => {
    const scheduler = makeScheduler('ddim', { num_train_timesteps: 40 }, { steps: 4 });
    const pipe = new DiffusionPipeline(model, scheduler, TINY);
    const seen: number[] = [];
    let start: Float32Array | undefined;
    await pipe.sample({ labels: [0], noiseIds: [0], seed: 0, w: 0, onStart: (x) => void (start = x.slice()), onStep: (t) => void seen.push(t) });
    expect(seen).toEqual([39, 29, 19, 9]);
    expect(Array.from(start ?? [])).toEqual(Array.from(imageNoiseRng(0, 0).normalArray(PER)));
  });
});
