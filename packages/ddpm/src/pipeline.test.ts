import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '@dlcv/core';
import { conditionTensors } from './condition-tensors';
import { onnxNoiseNet } from './onnx-net';
import { DiffusionPipeline, imageNoiseRng } from './pipeline';
import { makeScheduler } from './schedulers';
import { createUnet, type UnetConfig } from './model';

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
    // the down path once per image: the same guided prediction
    const shared = new DiffusionPipeline(model, pipe.scheduler, TINY, 'shared');
    (await shared.predictNoise(x, 29, labels, 1.5)).forEach((v, i) => expect(v).toBeCloseTo(guided[i] as number, 5));
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

  test('ONNX Runtime runs the exported U-Net (trained-like weights) as tfjs does, and samples the same images', async () => {
    // non-trivial norm statistics and scales, as after training
    const trained = createUnet(TINY, 6);
    const rng = imageNoiseRng(9, 9);
    for (const layer of trained.layers) {
      if (layer.getClassName() !== 'DlcvBatchNorm2d' && layer.getClassName() !== 'GroupNorm') continue;
      // weights in order gamma, beta(, running mean, running var): keep variances positive
      layer.setWeights(
        layer.getWeights().map((w, k) =>
          tf.tensor(
            Float32Array.from(rng.normalArray(w.size), (v) => (k === 3 ? 0.5 + Math.abs(v) : v)),
            w.shape,
          ),
        ),
      );
    }
    const scheduler = makeScheduler('ddim', { num_train_timesteps: 50 }, { steps: 4 });
    const viaTfjs = new DiffusionPipeline(trained, scheduler, TINY);
    const net = await onnxNoiseNet(trained, TINY);
    try {
      const viaOnnx = new DiffusionPipeline(net, scheduler, TINY);
      const x = imageNoiseRng(1, 0).normalArray(3 * PER);
      const a = await viaTfjs.predictNoise(x, 17, [0, 4, 9], 2);
      const b = await viaOnnx.predictNoise(x, 17, [0, 4, 9], 2);
      let maxDiff = 0,
        maxAbs = 0;
      a.forEach((v, i) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - (b[i] as number)));
        maxAbs = Math.max(maxAbs, Math.abs(v));
      });
      expect(maxAbs).toBeGreaterThan(0.01);
      expect(maxDiff / maxAbs).toBeLessThan(1e-4);
      const req = { labels: [2, 7], noiseIds: [0, 1], seed: 3, w: 4 };
      const sa = await viaTfjs.sample(req),
        sb = await viaOnnx.sample(req);
      sa.forEach((v, i) => expect(Math.abs(v - (sb[i] as number))).toBeLessThan(1e-3));
      // each path is deterministic on its own
      expect(Buffer.from((await viaOnnx.sample(req)).buffer).equals(Buffer.from(sb.buffer))).toBe(true);
    } finally {
      await net.dispose();
      trained.dispose();
    }
  });
});
