import * as tf from '@tensorflow/tfjs';
import { Rng, setupEngine, type EngineInfo } from '@dlcv/core';
import { defaultArithmetic, defaultGuidedForward } from './commands/sampling';
import { guideTensor, updateTensor } from './device-sampler';
import { createUnet, type UnetConfig } from './model';
import { DiffusionPipeline, inlineImageNoise, StepWorkerPool } from './pipeline';
import { guide } from './guidance';
import { makeScheduler, type SchedulerConfig } from './schedulers';
import type { ImageBatch } from './sampler';

const TINY: UnetConfig = { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 };

let model: tf.LayersModel;
const pools: StepWorkerPool[] = [];
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  model = createUnet(TINY, 5);
});
afterAll(async () => {
  model.dispose();
  await Promise.all(pools.map((p) => p.close()));
});

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);

describe('the device sampler', () => {
  test.each([
    ['ddpm', 'epsilon', true, 0],
    ['ddpm', 'v_prediction', false, 0],
    ['ddim', 'epsilon', true, 1],
    ['ddim', 'sample', false, 0.5],
    ['ddim', 'v_prediction', true, 0],
  ] as const)('a %s step (%s, clip %s, eta %d) as tensor ops is the host step in float32', (name, type, clip, eta) => {
    const config: Partial<SchedulerConfig> = { num_train_timesteps: 40, prediction_type: type, clip_sample: clip };
    const s = makeScheduler(name, config, { steps: 8, eta });
    const rng = new Rng(7);
    const out = rng.normalArray(300),
      xt = rng.normalArray(300, 1.5),
      z = rng.normalArray(300);
    for (const t of s.timesteps) {
      const host = s.step(out, t, xt, { normalArray: () => z }).prevSample;
      const device = tf.tidy(() => updateTensor(tf.tensor1d(out), tf.tensor1d(xt), s.addsNoise(t) ? tf.tensor1d(z) : null, s.update(t), s.config).dataSync());
      expect(maxDiff(device, host)).toBeLessThan(1e-5 * (1 + Math.max(...Array.from(host, Math.abs))));
    }
    // a step that adds noise needs it
    const noisy = s.timesteps.find((t) => s.addsNoise(t));
    if (noisy !== undefined) expect(() => updateTensor(tf.tensor1d(out), tf.tensor1d(xt), null, s.update(noisy), s.config)).toThrow('this step adds noise');
  });

  test('guidance as tensor ops is the host guidance', () => {
    const eps = new Rng(1).normalArray(2 * 48);
    const g = tf.tidy(() => guideTensor(tf.tensor2d(eps, [2 * 4, 12]), 2).dataSync());
    expect(maxDiff(g, guide(eps, 2))).toBeLessThan(1e-6);
    expect(() => guideTensor(tf.zeros([3, 2]), 1)).toThrow('expected [cond, uncond] halves, got 3 rows');
  });

  test.each([
    ['ddpm', 0, 2],
    ['ddim', 1, 0],
  ] as const)("%s (eta %d, w %d): the images are the host sampler's to float32 rounding, the same with noise from the step workers, and leak no tensors", async (name, eta, w) => {
    const pipe = new DiffusionPipeline(model, makeScheduler(name, { num_train_timesteps: 20 }, { steps: name === 'ddpm' ? 20 : 5, eta }), TINY);
    const req = { labels: [3, 1, 4, 1, 5], noiseIds: [0, 1, 2, 3, 4], seed: 9, w };
    const host = await pipe.sample(req);
    const before = tf.memory().numTensors;
    const states: Float32Array[] = [];
    const progress: number[] = [];
    const device = await pipe.sampleOnDevice({ ...req, onStep: (_t, x) => void states.push(x), onProgress: (t) => void progress.push(t) });
    expect(progress).toEqual(pipe.scheduler.timesteps);
    expect(tf.memory().numTensors).toBe(before);
    expect(device).toHaveLength(host.length);
    expect(maxDiff(device, host)).toBeLessThan(1e-4);
    expect(states).toHaveLength(pipe.scheduler.timesteps.length);
    expect(states[states.length - 1]).toEqual(device);
    const pool = new StepWorkerPool(2);
    pools.push(pool);
    expect(Buffer.from((await pipe.sampleOnDevice(req, pool.imageNoise)).buffer).equals(Buffer.from(device.buffer))).toBe(true);
  });

  test.each(['host', 'device'] as const)(
    "%s arithmetic: with the down path once per image ('shared') the images are the full forward's to float32 rounding, the same bytes each time",
    async (arithmetic) => {
      const scheduler = makeScheduler('ddpm', { num_train_timesteps: 12 });
      const [full, shared] = [new DiffusionPipeline(model, scheduler, TINY, 'full'), new DiffusionPipeline(model, scheduler, TINY, 'shared')];
      const req = { labels: [7, 0, 2], noiseIds: [5, 6, 7], seed: 1, w: 3 };
      const run = (pipe: DiffusionPipeline) => (arithmetic === 'device' ? pipe.sampleOnDevice(req) : pipe.sample(req));
      const before = tf.memory().numTensors;
      const a = await run(shared);
      expect(tf.memory().numTensors).toBe(before);
      expect(maxDiff(a, await run(full))).toBeLessThan(1e-4);
      expect(Buffer.from((await run(shared)).buffer).equals(Buffer.from(a.buffer))).toBe(true);
      // without guidance there is one row an image, and both ways are the same
      const unguided = { ...req, w: 0 };
      expect(Array.from(await shared.sample(unguided))).toEqual(Array.from(await full.sample(unguided)));
    },
  );

  test("the step workers hand out each step's noise in order, as drawn on this thread", async () => {
    const scheduler = makeScheduler('ddim', { num_train_timesteps: 20 }, { steps: 5, eta: 1 });
    const batch: ImageBatch = { scheduler, seed: 3, noiseIds: [4, 0, 9], w: 2, valuesPerImage: 6 };
    const pool = new StepWorkerPool(2);
    pools.push(pool);
    const viaPool = pool.imageNoise(batch);
    const inline = inlineImageNoise(batch);
    expect((await viaPool.start()).slice()).toEqual(await inline.start());
    const noisy = scheduler.timesteps.filter((t) => scheduler.addsNoise(t));
    expect((await viaPool.next(noisy[0] as number)).slice()).toEqual(await inline.next(noisy[0] as number));
    // a step out of order is refused
    await expect(viaPool.next(noisy[0] as number)).rejects.toThrow(`step workers: noise of step ${noisy[0]} asked, the next step that adds noise is ${noisy[1]}`);
    await viaPool.close();
  });

  test('sampling commands update on the device by default only on a GPU engine with the tfjs U-Net, and share the down path there', () => {
    const engine = (gpu: boolean): EngineInfo => ({ engine: 'libtorch', backend: 'dlcv-torch', threads: 2, detail: '', gpu, skipped: [] });
    expect(defaultArithmetic(undefined, 'tfjs')).toBe('host');
    expect(defaultArithmetic(engine(false), 'tfjs')).toBe('host');
    expect(defaultArithmetic(engine(true), 'tfjs')).toBe('device');
    expect(defaultArithmetic(engine(true), 'onnx')).toBe('host');
    // the bytes of host arithmetic stay the reference's way's
    expect(defaultGuidedForward('host')).toBe('full');
    expect(defaultGuidedForward('device')).toBe('shared');
  });
});
