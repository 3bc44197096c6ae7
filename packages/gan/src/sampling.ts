/**
 * Sampling from a trained generator: the homework's 1000 PNGs and sample grids.
 *
 * The generator runs in eval mode (BatchNorm with fixed statistics), so image i depends only on
 * its own noise vector: the same seed gives the same bytes whatever the batch size, and the grid
 * of the first 64 images shows exactly the first 64 files of `generate`. Image i uses normals
 * [i * nz, (i + 1) * nz) of the seed's stream, whatever the batching.
 *
 * Which statistics: a GAN generator is only ever trained (and judged by D) with batch
 * statistics, and the running averages lag behind weights that move fast (the report's G
 * learning rate is 5e-3). So by default ('precise') the statistics are recomputed before
 * sampling, with the final weights, as plain averages over CALIBRATION batches of fresh noise:
 * "precise BN" (Wu & Johnson 2021, "Rethinking 'Batch' in BatchNorm", section 3). 'running'
 * uses the training-time running averages as saved.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng, tensorToImages, UsageError, writePng, type RawImage } from '@dlcv/core';
import { BatchNorm2d } from './batchnorm';
import { noiseBatch } from './models';

/** PCG32 streams: each use of randomness has its own, so they never share draws. */
export const STREAMS = {
  init: 1,
  trainNoise: 2,
  fixedNoise: 3,
  generate: 4,
  calibrate: 5,
  /** Data order of epoch e uses stream dataOrder + e: a pure function of (seed, epoch). */
  dataOrder: 1000,
} as const;

export type BnStats = 'precise' | 'running';

export function parseBnStats(value: string | boolean | undefined): BnStats {
  if (value === undefined || value === 'precise' || value === 'running') return value ?? 'precise';
  throw new UsageError(`--bn must be precise or running, got "${String(value)}"`);
}

/** Batches x images of noise the precise statistics average over: 2,000 samples per channel. */
export const CALIBRATION = { batches: 20, batchSize: 100 };

function batchNorms(g: tf.LayersModel): BatchNorm2d[] {
  return g.layers.filter((l): l is BatchNorm2d => l instanceof BatchNorm2d);
}

/**
 * Runs `fn` with G's BatchNorm statistics recomputed as precise averages (see above), then puts
 * the saved running statistics back, so a training run continues unchanged.
 */
export async function withPreciseStats<T>(g: tf.LayersModel, nz: number, seed: number, fn: () => Promise<T>): Promise<T> {
  const norms = batchNorms(g);
  const saved = norms.map((l) => l.getWeights());
  try {
    const rng = new Rng(seed, STREAMS.calibrate);
    norms.forEach((l) => l.startCumulativeAverage());
    for (let b = 0; b < CALIBRATION.batches; b++) {
      const z = noiseBatch(rng, CALIBRATION.batchSize, nz);
      tf.dispose([g.apply(z, { training: true }) as tf.Tensor, z]);
    }
    norms.forEach((l) => l.stopCumulativeAverage());
    return await fn();
  } finally {
    norms.forEach((l, i) => {
      l.stopCumulativeAverage();
      l.setWeights(saved[i] as tf.Tensor[]);
    });
    tf.dispose(saved.flat());
  }
}

/** Runs G in eval mode on `z` and returns uint8 images (values in [-1, 1] mapped to 0..255). */
export async function generatorImages(g: tf.LayersModel, z: tf.Tensor4D): Promise<RawImage[]> {
  const out = tf.tidy(() => g.apply(z, { training: false }) as tf.Tensor4D);
  try {
    const values = await out.data();
    return tensorToImages(values, out.shape as [number, number, number, number]);
  } finally {
    out.dispose();
  }
}

export interface GenerateOptions {
  count: number;
  seed: number;
  nz: number;
  /** BatchNorm statistics to sample with (default 'precise', see above). */
  bn?: BnStats;
  /** Images per forward pass; does not change the images. Default 100. */
  batchSize?: number;
  onBatch?: (done: number) => void;
}

/** File names 0000.png, 0001.png, ...: four digits at least, more when count needs them. */
export function sampleName(i: number, count: number): string {
  return `${String(i).padStart(Math.max(4, String(count - 1).length), '0')}.png`;
}

/** Batches of generated images in order: `start` is the index of the batch's first image. */
export async function* generateBatches(g: tf.LayersModel, options: Omit<GenerateOptions, 'onBatch'>): AsyncGenerator<{ start: number; images: RawImage[] }> {
  const { count, seed, nz, batchSize = 100 } = options;
  if (!Number.isInteger(count) || count < 1) throw new Error(`generate: count must be a positive integer, got ${count}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`generate: batch size must be a positive integer, got ${batchSize}`);
  const rng = new Rng(seed, STREAMS.generate);
  for (let start = 0; start < count; start += batchSize) {
    const z = noiseBatch(rng, Math.min(batchSize, count - start), nz);
    try {
      yield { start, images: await generatorImages(g, z) };
    } finally {
      z.dispose();
    }
  }
}

/** Runs `fn` with the statistics `bn` asks for. */
export function withStats<T>(g: tf.LayersModel, options: Pick<GenerateOptions, 'bn' | 'nz' | 'seed'>, fn: () => Promise<T>): Promise<T> {
  return (options.bn ?? 'precise') === 'precise' ? withPreciseStats(g, options.nz, options.seed, fn) : fn();
}

/** Writes `count` images into `outDir` as 0000.png...; returns their paths. */
export async function generateToFolder(g: tf.LayersModel, outDir: string, options: GenerateOptions): Promise<string[]> {
  return withStats(g, options, async () => {
    const files: string[] = [];
    for await (const { start, images } of generateBatches(g, options)) {
      for (const [k, image] of images.entries()) {
        const file = path.join(outDir, sampleName(start + k, options.count));
        await writePng(file, image);
        files.push(file);
      }
      options.onBatch?.(start + images.length);
    }
    return files;
  });
}

/** The first `count` images `generateToFolder` would write with this seed, in memory. */
export async function generateImages(g: tf.LayersModel, options: Omit<GenerateOptions, 'onBatch'>): Promise<RawImage[]> {
  return withStats(g, options, async () => {
    const out: RawImage[] = [];
    for await (const { images } of generateBatches(g, options)) out.push(...images);
    return out;
  });
}
