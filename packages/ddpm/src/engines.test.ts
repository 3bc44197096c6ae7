// The DDPM on each device engine against the tfjs cpu backend: two training steps with the EMA,
// then guided sampling from the EMA weights with x on the device (the sampling commands' way on
// a GPU engine), every kernel of them on the engine. On libtorch that is the condition for
// running on CUDA, where a kernel that would leave the device for the host is an error.
import * as tf from '@tensorflow/tfjs';
import { maxRelativeDifference, replayableStep, Rng, runOnCpuAndEngine, type DeviceEngineName } from '@dlcv/core';

import { conditionTensors } from './condition-tensors';
import { conditionArrays } from './conditioning';
import { Ema } from './ema';
import { createUnet, type UnetConfig } from './model';
import { DiffusionPipeline } from './pipeline';
import { makeScheduler } from './schedulers';
import { diffusionStepOnHost, startDiffusionStep, trainingStep, type HostStepInputs } from './step';

const TINY: UnetConfig = { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 };
const BATCH = 4;
const TIMESTEPS = 20;

/**
 * The losses of two steps and the pixels of 3 images sampled (DDIM, eta 1, w 2) from the EMA
 * weights after them, with the down path run twice ('full') and once ('shared') per image.
 */
async function trainThenSample(): Promise<{ losses: number[]; images: Float32Array; shared: Float32Array }> {
  const rng = new Rng(3);
  const model = createUnet(TINY, 1);
  const ema = new Ema(model, 0.9);
  const optimizer = tf.train.adam(1e-3);
  const shape: [number, number, number, number] = [BATCH, TINY.imageSize, TINY.imageSize, TINY.inChannels];
  const values = BATCH * TINY.imageSize * TINY.imageSize * TINY.inChannels;
  const losses: number[] = [];
  for (let step = 0; step < 2; step++) {
    const xt = tf.tensor4d(rng.normalArray(values), shape);
    const eps = tf.tensor4d(rng.normalArray(values), shape);
    const cond = conditionTensors([3 + step, 11, 7, 19], [0, 4, 9, 2], [0, 0, 1, 0], TIMESTEPS, TINY.nClasses);
    const loss = trainingStep(model, optimizer, xt, eps, cond);
    losses.push((await loss.data())[0]!);
    ema.update(step);
    tf.dispose([loss, xt, eps, cond.t, cond.c, cond.mask]);
  }
  const sampler = createUnet(TINY, 2);
  ema.copyTo(sampler);
  const scheduler = makeScheduler('ddim', { num_train_timesteps: TIMESTEPS }, { steps: 4, eta: 1 });
  const req = { labels: [1, 8, 5], noiseIds: [0, 1, 2], seed: 4, w: 2 };
  const images = await new DiffusionPipeline(sampler, scheduler, TINY, 'full').sampleOnDevice(req);
  const shared = await new DiffusionPipeline(sampler, scheduler, TINY, 'shared').sampleOnDevice(req);
  optimizer.dispose();
  ema.dispose();
  model.dispose();
  sampler.dispose();
  return { losses, images, shared };
}

/** The losses and weights' bits of six trainer steps (startDiffusionStep on host inputs), replayable or not, and the replays made. */
async function sixSteps(replay: boolean): Promise<{ losses: number[]; weights: string[]; replays: number }> {
  const rng = new Rng(4);
  const model = createUnet(TINY, 1);
  const optimizer = tf.train.adam(1e-3);
  const step = replayableStep((inputs: HostStepInputs) => diffusionStepOnHost(model, optimizer, inputs), { enabled: replay });
  const shape: [number, number, number, number] = [BATCH, TINY.imageSize, TINY.imageSize, TINY.inChannels];
  const values = BATCH * TINY.imageSize * TINY.imageSize * TINY.inChannels;
  const losses: number[] = [];
  for (let i = 0; i < 6; i++) {
    // the class-drop mask all zeros in some steps: an input the backend would keep as a constant
    const cond = conditionArrays([3 + i, 11, 7, 19], [0, 4, 9, 2], [0, i % 2, 0, 0], TIMESTEPS, TINY.nClasses);
    const inputs = { xt: rng.normalArray(values), eps: rng.normalArray(values), cond, nClasses: TINY.nClasses, shape };
    losses.push(await startDiffusionStep(model, optimizer, inputs, step));
  }
  const weights = model.weights.map((w) => Buffer.from(Float32Array.from(w.read().dataSync()).buffer).toString('hex'));
  optimizer.dispose();
  model.dispose();
  return { losses, weights, replays: step.replays };
}

describe.each<DeviceEngineName>(['native', 'libtorch'])('DDPM on the %s engine', (engine) => {
  test("the trainer's steps replayed (replayableStep): every loss and weight the bits of eager steps; on libtorch the steps after the third are replays", async () => {
    const r = await runOnCpuAndEngine(engine, async () => ({ eager: await sixSteps(false), replayed: await sixSteps(true) }));
    if (!r.ok) return console.warn(`SKIPPING the DDPM on ${engine}: ${r.reason}`);
    expect(r.hostKernels).toEqual([]);
    expect(r.left).toEqual({ dataIds: 0, handles: 0 });
    expect(r.engine.replayed.replays).toBe(engine === 'libtorch' ? 3 : 0);
    expect(r.engine.replayed.losses).toEqual(r.engine.eager.losses);
    expect(r.engine.replayed.weights).toEqual(r.engine.eager.weights);
  });

  test('two training steps with the EMA, then guided sampling on the device (the down path twice and once per image): the cpu backend losses and images, no kernel on the host', async () => {
    const r = await runOnCpuAndEngine(engine, trainThenSample);
    if (!r.ok) return console.warn(`SKIPPING the DDPM on ${engine}: ${r.reason}`);
    expect(r.hostKernels).toEqual([]);
    expect(r.left).toEqual({ dataIds: 0, handles: 0 }); // everything it made was disposed
    expect(r.engine.images).toHaveLength(3 * TINY.imageSize * TINY.imageSize * TINY.inChannels);
    expect(maxRelativeDifference(r.engine.losses, r.cpu.losses)).toBeLessThan(1e-4);
    // Guidance takes 1 + 2w = 5 times the engines' float32 rounding differences of the network's
    // outputs, and the 4 steps' updates grow them further (measured: 1.3e-4 native, 2.1e-4 libtorch).
    expect(maxRelativeDifference(r.engine.images, r.cpu.images)).toBeLessThan(1e-3);
    // the down path once per image: the same images to that rounding, on both
    expect(maxRelativeDifference(r.engine.shared, r.cpu.shared)).toBeLessThan(1e-3);
    expect(maxRelativeDifference(r.engine.shared, r.engine.images)).toBeLessThan(1e-3);
  });
});
