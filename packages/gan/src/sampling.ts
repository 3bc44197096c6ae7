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
import { BatchNorm2d, loadExported, Rng, tensorToImages, writePng, type RawImage } from '@dlcv/core';
import { CALIBRATION, type Calibration } from './config';
import { noiseBatch } from './model';
import { STREAMS } from './streams';

export { STREAMS } from './streams';

export const BN_STATS = ['precise', 'running'] as const;
export type BnStats = (typeof BN_STATS)[number];

export const RUNTIMES = ['tfjs', 'onnx'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/**
 * The runtime unless told: ONNX Runtime on the pure-JS cpu engine (about 17x faster there for
 * model A), tfjs on the faster engines.
 */
export function defaultRuntime(engine: string | undefined): Runtime {
  return engine === 'cpu' ? 'onnx' : 'tfjs';
}

function batchNorms(g: tf.LayersModel): BatchNorm2d[] {
  return g.layers.filter((l): l is BatchNorm2d => l instanceof BatchNorm2d);
}

/**
 * Precise statistics of G with its current weights: for each BatchNorm layer in order, its
 * mean and its (unbiased) variance, averaged over the calibration noise. The noise stream is
 * the calibration's own (seed `calibration.seed`, default 0; not the sampling seed), so a
 * training run can store the result in its checkpoint and `generate` gets the same numbers
 * without recomputing them. G is left as it was.
 */
export async function computePreciseStats(g: tf.LayersModel, nz: number, calibration: Calibration = CALIBRATION): Promise<tf.Tensor1D[]> {
  const norms = batchNorms(g);
  // getWeights hands out the live variables: keep copies.
  const saved = norms.map((l) => l.getWeights().map((w) => w.clone()));
  try {
    const rng = new Rng(calibration.seed ?? 0, STREAMS.calibrate);
    norms.forEach((l) => l.startCumulativeAverage());
    for (let b = 0; b < calibration.batches; b++) {
      const z = noiseBatch(rng, calibration.batchSize, nz);
      tf.dispose([g.apply(z, { training: true }) as tf.Tensor, z]);
    }
    return norms.flatMap((l) =>
      l
        .getWeights()
        .slice(2)
        .map((w) => w.clone() as tf.Tensor1D),
    );
  } finally {
    norms.forEach((l, i) => {
      l.stopCumulativeAverage();
      l.setWeights(saved[i] as tf.Tensor[]);
    });
    tf.dispose(saved.flat());
  }
}

/** Runs `fn` with G's BatchNorm statistics set to `stats` (as computePreciseStats lists them), then restores them. */
export async function withBatchNormStats<T>(g: tf.LayersModel, stats: readonly tf.Tensor[], fn: () => Promise<T>): Promise<T> {
  const norms = batchNorms(g);
  if (stats.length !== 2 * norms.length) throw new Error(`BatchNorm statistics: ${stats.length} tensors for ${norms.length} layers (2 each)`);
  const saved = norms.map((l) => l.getWeights().map((w) => w.clone()));
  try {
    norms.forEach((l, i) => {
      const [gamma, beta] = l.getWeights() as [tf.Tensor, tf.Tensor];
      l.setWeights([gamma, beta, stats[2 * i] as tf.Tensor, stats[2 * i + 1] as tf.Tensor]);
    });
    return await fn();
  } finally {
    norms.forEach((l, i) => l.setWeights(saved[i] as tf.Tensor[]));
    tf.dispose(saved.flat());
  }
}

/** Shapes of the tensors computePreciseStats returns, to load stored ones into. */
export function preciseStatsShapes(g: tf.LayersModel): number[][] {
  return batchNorms(g).flatMap((l) => [[l.numFeatures], [l.numFeatures]]);
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
  /** Noise the precise statistics average over (default CALIBRATION). */
  calibration?: Calibration;
  /** Precise statistics computed before (stored in the checkpoint); computed now when absent. */
  preciseStats?: tf.Tensor[];
  /** Run G with tfjs on the active engine (default) or exported to ONNX Runtime. */
  runtime?: Runtime;
  /** Images per forward pass; does not change the images. Default 100. */
  batchSize?: number;
  onBatch?: (done: number) => void;
}

/** File names 0000.png, 0001.png, ...: four digits at least, more when count needs them. */
export function sampleName(i: number, count: number): string {
  return `${String(i).padStart(Math.max(4, String(count - 1).length), '0')}.png`;
}

/** Turns noise [n, 1, 1, nz] into n images. */
export interface ImageRunner {
  run(z: Float32Array, n: number): Promise<RawImage[]>;
  dispose(): Promise<void>;
}

function tfjsRunner(g: tf.LayersModel, nz: number): ImageRunner {
  return {
    async run(z, n) {
      const t = tf.tensor4d(z, [n, 1, 1, nz]);
      try {
        return await generatorImages(g, t);
      } finally {
        t.dispose();
      }
    },
    async dispose() {},
  };
}

/**
 * ONNX Runtime on the CPU, through core's exporter (which knows core's BatchNorm2d): G in eval
 * mode with the statistics in force when called, loaded in memory.
 * About 17x faster than the pure-JS cpu engine for model A; its float rounding differs from tfjs's, so a pixel may
 * differ by one level between the two paths (each is deterministic on its own).
 */
async function onnxRunner(g: tf.LayersModel, nz: number): Promise<ImageRunner> {
  const model = await loadExported(g);
  return {
    async run(z, n) {
      const out = Object.values(await model.run([{ data: z, dims: [n, 1, 1, nz] }]))[0];
      if (!out || !(out.data instanceof Float32Array) || out.dims.length !== 4 || out.dims[0] !== n) {
        throw new Error(`generate --onnx: unexpected output [${out?.dims.join(', ') ?? 'none'}] from the exported generator`);
      }
      return tensorToImages(out.data, out.dims as [number, number, number, number]);
    },
    dispose: () => model.dispose(),
  };
}

/** Batches of generated images in order: `start` is the index of the batch's first image. */
export async function* generateBatches(runner: ImageRunner, options: Omit<GenerateOptions, 'onBatch'>): AsyncGenerator<{ start: number; images: RawImage[] }> {
  const { count, seed, nz, batchSize = 100 } = options;
  if (!Number.isInteger(count) || count < 1) throw new Error(`generate: count must be a positive integer, got ${count}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`generate: batch size must be a positive integer, got ${batchSize}`);
  const rng = new Rng(seed, STREAMS.generate);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    // The same draws as noiseBatch: image i always gets normals [i * nz, (i + 1) * nz).
    yield { start, images: await runner.run(rng.normalArray(n * nz), n) };
  }
}

/** Runs `fn` with a runner for `options.runtime`, under the statistics `options.bn` asks for. */
async function withRunner<T>(g: tf.LayersModel, options: Omit<GenerateOptions, 'onBatch'>, fn: (runner: ImageRunner) => Promise<T>): Promise<T> {
  return withStats(g, options, async () => {
    const runner = options.runtime === 'onnx' ? await onnxRunner(g, options.nz) : tfjsRunner(g, options.nz);
    try {
      return await fn(runner);
    } finally {
      await runner.dispose();
    }
  });
}

/** Runs `fn` with the statistics `bn` asks for. */
export async function withStats<T>(g: tf.LayersModel, options: Pick<GenerateOptions, 'bn' | 'nz' | 'calibration' | 'preciseStats'>, fn: () => Promise<T>): Promise<T> {
  if ((options.bn ?? 'precise') === 'running') return fn();
  const stats = options.preciseStats ?? (await computePreciseStats(g, options.nz, options.calibration));
  try {
    return await withBatchNormStats(g, stats, fn);
  } finally {
    if (!options.preciseStats) tf.dispose(stats);
  }
}

/** Writes `count` images into `outDir` as 0000.png...; returns their paths. */
export async function generateToFolder(g: tf.LayersModel, outDir: string, options: GenerateOptions): Promise<string[]> {
  return withRunner(g, options, async (runner) => {
    const files: string[] = [];
    for await (const { start, images } of generateBatches(runner, options)) {
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
  return withRunner(g, options, async (runner) => {
    const out: RawImage[] = [];
    for await (const { images } of generateBatches(runner, options)) out.push(...images);
    return out;
  });
}
