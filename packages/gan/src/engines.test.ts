// The DCGAN on each device engine against the tfjs cpu backend: two training steps and then
// generation with precise BatchNorm statistics (the generate command's default), every kernel
// of them on the engine. On libtorch that is the condition for running on CUDA, where a kernel
// that would leave the device for the host is an error.
import * as tf from '@tensorflow/tfjs';
import { maxRelativeDifference, Rng, runOnCpuAndEngine, type DeviceEngineName } from '@dlcv/core';

import { createDiscriminator, createGenerator, noiseBatch } from './model';
import { computePreciseStats, withBatchNormStats } from './sampling';
import { createOptimizers, trainStep } from './step';
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

describe.each<DeviceEngineName>(['native', 'libtorch'])('DCGAN on the %s engine', (engine) => {
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
