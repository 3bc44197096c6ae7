// Child process of torch-reference.test.ts: two training steps of a seeded small DCGAN on the
// cpu engine, with every weight before and after and the step results, as JSON into argv[2].
import { promises as fs } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { Rng, setupEngine } from '@dlcv/core';
import { createDiscriminator, createGenerator, noiseBatch, type DcganConfig } from '../model';
import { createOptimizers, trainStep, type StepResult } from '../step';

export const REFERENCE = { gan: { nz: 8, ngf: 4, ndf: 4, channels: 3 } satisfies DcganConfig, batch: 4, steps: 2, lrD: 5e-4, lrG: 5e-3, beta1: 0.5 };

async function main(): Promise<void> {
  await setupEngine({ engine: 'cpu' });
  const rng = new Rng(3);
  const g = createGenerator(REFERENCE.gan, rng.fork(1));
  const d = createDiscriminator(REFERENCE.gan, rng.fork(2));
  const gan = { g, d, ...createOptimizers(REFERENCE) };
  const real = tf.tensor4d(rng.uniformArray(REFERENCE.batch * 64 * 64 * 3, -1, 1), [REFERENCE.batch, 64, 64, 3]);
  const z = noiseBatch(rng, REFERENCE.batch, REFERENCE.gan.nz);
  // Layer by layer (a model's `weights` lists all trainable weights before the running statistics).
  const dump = (m: tf.LayersModel) => m.layers.flatMap((l) => l.weights).map((w) => ({ name: w.originalName, shape: w.shape, values: Array.from(w.read().dataSync()) }));
  const before = { g: dump(g), d: dump(d), real: Array.from(real.dataSync()), z: Array.from(z.dataSync()) };
  const steps: StepResult[] = [];
  for (let i = 0; i < REFERENCE.steps; i++) steps.push(await trainStep(gan, real, z));
  await fs.writeFile(process.argv[2] as string, JSON.stringify({ ...REFERENCE, before, results: steps, after: { g: dump(g), d: dump(d) } }));
}
void main();
