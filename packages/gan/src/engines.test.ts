// The DCGAN on each device engine against the tfjs cpu backend: two training steps and then
// generation with precise BatchNorm statistics (the generate command's default), every kernel
// of them on the engine. On libtorch that is the condition for running on CUDA, where a kernel
// that would leave the device for the host is an error.
import * as tf from '@tensorflow/tfjs';
import { maxRelativeDifference, replayableStep, Rng, runOnCpuAndEngine, type DeviceEngineName } from '@dlcv/core';

import { createDiscriminator, createGenerator, noiseBatch } from './model';
import { computePreciseStats, withBatchNormStats } from './sampling';
import { createOptimizers, queueTrainStep, readStepResult, trainStep } from './step';
import { SMALL_CALIBRATION } from './test-utils/fixtures';

const CONFIG = { nz: 8, ngf: 4, ndf: 4, channels: 3 } as const;
const BATCH = 4;

/** The step losses of two steps and the generated pixels after them. */
async function trainThenGenerate(): Promise<{ losses: number[]; images: Float32Array }> {
  const rng = new Rng(5);
  const gan = { g: createGenerator(CONFIG, rng.fork(1)), d: createDiscriminator(CONFIG, rng.fork(2)), ...createOptimizers({ lrD: 2e-4, lrG: 2e-4, beta1: 0.5 }) };
  const real = tf.tensor4d(rng.uniformArray(BATCH * 64 * 64 * 3, -1, 1), [BATCH, 64, 64, 3]);
  const losses: number[] = [];
  for (let step = 0; step < 2; step++) {
    const z = noiseBatch(rng, BATCH, CONFIG.nz);
    const r = await trainStep(gan, real, z);
    losses.push(r.lossD, r.lossG, r.dReal, r.dFake1, r.dFake2);
    z.dispose();
  }
  const stats = await computePreciseStats(gan.g, CONFIG.nz, SMALL_CALIBRATION);
  const z = noiseBatch(rng, BATCH, CONFIG.nz);
  const images = await withBatchNormStats(gan.g, stats, async () => {
    const y = tf.tidy(() => gan.g.apply(z, { training: false }) as tf.Tensor);
    const values = (await y.data()) as Float32Array;
    y.dispose();
    return values;
  });
  tf.dispose([real, z, ...stats]);
  gan.optD.dispose();
  gan.optG.dispose();
  gan.g.dispose();
  gan.d.dispose();
  return { losses, images };
}

/** The results and weights' bits of six steps (queueTrainStep on a real batch and noise), replayable or not, and the replays made. */
async function sixSteps(replay: boolean): Promise<{ results: number[]; weights: string[]; replays: number }> {
  const rng = new Rng(6);
  const gan = { g: createGenerator(CONFIG, rng.fork(1)), d: createDiscriminator(CONFIG, rng.fork(2)), ...createOptimizers({ lrD: 2e-4, lrG: 2e-4, beta1: 0.5 }) };
  const step = replayableStep(({ real, z }: { real: tf.Tensor4D; z: tf.Tensor4D }) => queueTrainStep(gan, real, z), { enabled: replay });
  const results: number[] = [];
  for (let i = 0; i < 6; i++) {
    const real = tf.tensor4d(rng.uniformArray(BATCH * 64 * 64 * 3, -1, 1), [BATCH, 64, 64, 3]);
    const z = noiseBatch(rng, BATCH, CONFIG.nz);
    results.push(...Object.values(await readStepResult(step({ real, z }))));
    tf.dispose([real, z]);
  }
  const weights = [...gan.g.weights, ...gan.d.weights].map((w) => Buffer.from(Float32Array.from(w.read().dataSync()).buffer).toString('hex'));
  gan.optD.dispose();
  gan.optG.dispose();
  gan.g.dispose();
  gan.d.dispose();
  return { results, weights, replays: step.replays };
}

describe.each<DeviceEngineName>(['native', 'libtorch'])('DCGAN on the %s engine', (engine) => {
  test('steps replayed (replayableStep, as the trainer runs them): every result and weight the bits of eager steps; on libtorch the steps after the third are replays', async () => {
    const r = await runOnCpuAndEngine(engine, async () => ({ eager: await sixSteps(false), replayed: await sixSteps(true) }));
    if (!r.ok) return console.warn(`SKIPPING the DCGAN on ${engine}: ${r.reason}`);
    expect(r.hostKernels).toEqual([]);
    expect(r.left).toEqual({ dataIds: 0, handles: 0 });
    expect(r.engine.replayed.replays).toBe(engine === 'libtorch' ? 3 : 0);
    expect(r.engine.replayed.results).toEqual(r.engine.eager.results);
    expect(r.engine.replayed.weights).toEqual(r.engine.eager.weights);
  });

  test('two training steps and precise-statistics generation: the cpu backend losses and images, no kernel on the host', async () => {
    const r = await runOnCpuAndEngine(engine, trainThenGenerate);
    if (!r.ok) return console.warn(`SKIPPING the DCGAN on ${engine}: ${r.reason}`);
    expect(r.hostKernels).toEqual([]);
    expect(r.left).toEqual({ dataIds: 0, handles: 0 }); // everything it made was disposed
    expect(r.engine.images).toHaveLength(BATCH * 64 * 64 * 3);
    expect(maxRelativeDifference(r.engine.losses, r.cpu.losses)).toBeLessThan(1e-4);
    expect(maxRelativeDifference(r.engine.images, r.cpu.images)).toBeLessThan(1e-4);
  });
});
