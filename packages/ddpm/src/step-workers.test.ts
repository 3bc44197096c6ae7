import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineInfo } from '@dlcv/core';
import { defaultWorkerThreads } from './worker-thread';
import { DiffusionSampler, inlineImageSteps, type ImageBatch, type NoiseNet } from './sampler';
import { makeScheduler } from './schedulers';
import { StepWorkerPool } from './step-workers';
import { WorkerThread } from './worker-thread';
import type { UnetConfig } from './model';

const UNET: UnetConfig = { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 4, groups: 2 };
const PER = 4 * 4 * 3;

// A stand-in network whose output depends on x and the conditions, so the images depend on
// every step's noise and prediction.
const net: NoiseNet = {
  predict: async (x, cond) => {
    const per = x.length / cond.t.length;
    return x.map(
      (v, i) =>
        0.3 * v + 0.01 * (cond.t[Math.floor(i / per)] as number) - 0.2 * (cond.mask[Math.floor(i / per)] as number) + 0.05 * (cond.c[Math.floor(i / per) * 10 + 3] as number),
    );
  },
};

describe('step workers', () => {
  const pools: StepWorkerPool[] = [];
  const pool = (size: number) => {
    const p = new StepWorkerPool(size);
    pools.push(p);
    return p;
  };
  afterAll(async () => Promise.all(pools.map((p) => p.close())));

  test.each([
    ['ddpm', 0, 2, 3, 7],
    ['ddpm', 0, 0, 3, 7], // no guidance: the output holds the conditional half only
    ['ddim', 0, 2, 10, 3], // more threads than images: one image each
    ['ddim', 1, 1.5, 2, 5],
  ] as const)("%s (eta %d, w %d): %i threads for %i images give the main thread's images, byte for byte", async (name, eta, w, threads, images) => {
    const scheduler = makeScheduler(name, { num_train_timesteps: 30 }, { steps: name === 'ddpm' ? 30 : 6, eta });
    const sampler = new DiffusionSampler(net, scheduler, UNET);
    const req = { labels: Array.from({ length: images }, (_, i) => (3 * i) % 10), noiseIds: Array.from({ length: images }, (_, i) => 5 * i + 2), seed: 9, w };
    const states: Float32Array[] = [];
    const keep = (into: Float32Array[]) => (_t: number, x: Float32Array) => void into.push(x.slice());
    const plain = await sampler.sample({ ...req, onStep: keep(states) });
    const p = pool(threads);
    const workerStates: Float32Array[] = [];
    const progress: number[] = [];
    const viaWorkers = await sampler.sample({ ...req, imageSteps: p.imageSteps, onStep: keep(workerStates), onProgress: (t) => void progress.push(t) });
    expect(progress).toEqual(scheduler.timesteps);
    expect(viaWorkers).toHaveLength(images * PER);
    expect(Buffer.from(viaWorkers.buffer).equals(Buffer.from(plain.buffer))).toBe(true);
    // every intermediate state too; the result is the caller's own array, not the threads' buffer
    expect(workerStates).toEqual(states);
    expect(viaWorkers.buffer).toBeInstanceOf(ArrayBuffer);
    // the pool serves the next batch: another seed and size give other images, the same as inline again
    const next = { ...req, labels: req.labels.slice(1), noiseIds: req.noiseIds.slice(1), seed: 10 };
    const again = await sampler.sample({ ...next, imageSteps: p.imageSteps });
    expect(again).toEqual(await sampler.sample(next));
    expect(again).not.toEqual(plain.subarray(PER));
  });

  test('refuses a wrong model output, a step out of order, a second batch at once, a closed pool and bad sizes', async () => {
    const scheduler = makeScheduler('ddpm', { num_train_timesteps: 10 }, { steps: 10 });
    const batch: ImageBatch = { scheduler, seed: 0, noiseIds: [0, 1, 2], w: 2, valuesPerImage: PER };
    const p = pool(2);
    const steps = p.imageSteps(batch);
    expect(() => p.imageSteps(batch)).toThrow('step workers: the pool is already stepping a batch');
    expect(() => steps.sample()).toThrow('image steps: start() first');
    await steps.start();
    const inline = inlineImageSteps(batch);
    await inline.start();
    expect(steps.sample()).toEqual(inline.sample());
    // guided: the network reads x twice, as the [cond, uncond] rows
    expect(steps.networkInput()).toEqual(inline.networkInput());
    expect(steps.networkInput().subarray(3 * PER)).toEqual(inline.sample());
    await expect(steps.step(new Float32Array(3 * PER), 9)).rejects.toThrow(`image steps: the model output has ${3 * PER} values, expected ${6 * PER}`);
    await expect(steps.step(new Float32Array(6 * PER), 8)).rejects.toThrow("step workers: step 8 asked, the schedule's next is 9");
    await steps.close();
    expect(() => p.imageSteps({ ...batch, w: NaN })).toThrow('guidance: w must be a finite number, got NaN');
    expect(() => p.imageSteps({ ...batch, noiseIds: [0, -1] })).toThrow('noise id must be a non-negative integer, got -1');
    await p.close();
    expect(() => p.imageSteps(batch)).toThrow('step workers: the pool is closed');
    expect(() => new StepWorkerPool(0)).toThrow('the pool size must be a positive integer, got 0');
  });

  test('a thread that exits fails its request instead of leaving it waiting', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'step-thread-'));
    const script = path.join(dir, 'exits.js');
    fs.writeFileSync(script, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));");
    const th = new WorkerThread(script, 'step workers');
    await expect(th.request({ type: 'start' })).rejects.toThrow('step workers: a worker exited (code 3)');
    await expect(th.request({ type: 'start' })).rejects.toThrow('step workers: a worker exited (code 3)');
    fs.rmSync(dir, { recursive: true });
  });

  test('sampling and training use worker threads by default only where the network runs on a GPU', () => {
    const engine = (gpu: boolean): EngineInfo => ({ engine: 'libtorch', backend: 'dlcv-torch', threads: 2, detail: '', gpu, skipped: [] });
    expect(defaultWorkerThreads(undefined)).toBe(0);
    expect(defaultWorkerThreads(engine(false))).toBe(0);
    expect(defaultWorkerThreads(engine(true))).toBe(Math.max(1, Math.min(8, os.availableParallelism() - 1)));
  });
});
