/**
 * Sampling: a noise network and a scheduler wired together, with classifier-free guidance. The
 * conditional and unconditional halves go through the network as one batch of 2B (the
 * reference's trick); with w = 0 the unconditional half is skipped, which gives the same numbers.
 *
 * Every image draws its noise (the initial x_T and each step's z) from its own generator,
 * seeded by (seed, noise id), so an image does not depend on the batch it was made in, and
 * 0_001.png, the grid's first column and the reverse strip can share one noise.
 *
 * Nothing here needs TensorFlow.js (pipeline.ts wires in the tfjs U-Net): the report page runs
 * this same code in the browser on the U-Net's ONNX export.
 */
import { Rng } from '@dlcv/core';
import { conditionArrays, type ConditionArrays } from './conditioning';
import { guide } from './guidance';
import type { NoiseSource, Scheduler } from './schedulers';
import type { UnetConfig } from './model';

/** The PCG32 stream of image `noiseId`'s noise; the offset keeps it apart from training's streams. */
export function imageNoiseStream(noiseId: number): number {
  if (!Number.isInteger(noiseId) || noiseId < 0) throw new Error(`noise id must be a non-negative integer, got ${noiseId}`);
  return 100_000 + noiseId;
}

/** The generator of image `noiseId`'s noise. */
export function imageNoiseRng(seed: number, noiseId: number): Rng {
  return new Rng(seed, imageNoiseStream(noiseId));
}

/** Noise for a batch: item i's share of each draw comes from item i's own generator. */
export class BatchNoise implements NoiseSource {
  constructor(private readonly rngs: Rng[]) {}

  normalArray(length: number): Float32Array {
    const n = this.rngs.length;
    if (length % n !== 0) throw new Error(`BatchNoise: ${length} values cannot be split over ${n} images`);
    const per = length / n;
    const out = new Float32Array(length);
    this.rngs.forEach((rng, i) => out.set(rng.normalArray(per), i * per));
    return out;
  }
}

/**
 * A noise source that draws ahead, off the sampler's thread (noise-workers.ts): prefetch(length)
 * draws the values that the next normalArray(length) returns, while the network runs.
 */
export interface PrefetchingNoise extends NoiseSource {
  prefetch(length: number): Promise<void>;
  close(): Promise<void>;
}

/** Makes the noise source of one sample() call: the images' own generators, in order. */
export type NoiseFactory = (seed: number, noiseIds: number[]) => NoiseSource | PrefetchingNoise;

const batchNoise: NoiseFactory = (seed, noiseIds) => new BatchNoise(noiseIds.map((id) => imageNoiseRng(seed, id)));
const prefetching = (noise: NoiseSource | PrefetchingNoise): noise is PrefetchingNoise => 'prefetch' in noise;

export interface SampleRequest {
  /** One class per image. */
  labels: number[];
  /** One noise id per image (see imageNoiseRng). */
  noiseIds: number[];
  seed: number;
  /** Guidance weight. */
  w: number;
  /** Called with the initial noise x_T, before the first step. */
  onStart?: (sample: Float32Array) => void | Promise<void>;
  /** Called after every step with the timestep just taken and the new sample (x at the next timestep). */
  onStep?: (t: number, sample: Float32Array) => void | Promise<void>;
  /** The noise source (default: BatchNoise on this thread); any gives the same values. */
  noise?: NoiseFactory;
}

/** What runs the U-Net for sampling: tfjs (tfjsNoiseNet) or ONNX Runtime (onnx-net.ts). */
export interface NoiseNet {
  /** The noise prediction for n images: x is [n, S, S, C] flattened, cond holds n conditions. */
  predict(x: Float32Array, cond: ConditionArrays): Promise<Float32Array>;
}

export class DiffusionSampler {
  constructor(
    readonly net: NoiseNet,
    readonly scheduler: Scheduler,
    readonly unet: UnetConfig,
  ) {}

  /** The guided noise prediction for a batch at timestep t. */
  async predictNoise(sample: Float32Array, t: number, labels: number[], w: number): Promise<Float32Array> {
    const b = labels.length;
    const both = w !== 0;
    const n = both ? 2 * b : b;
    let xs = sample;
    if (both) {
      xs = new Float32Array(2 * sample.length);
      xs.set(sample);
      xs.set(sample, sample.length);
    }
    const drop = new Float32Array(n);
    if (both) drop.fill(1, b);
    const cond = conditionArrays(new Array<number>(n).fill(t), both ? [...labels, ...labels] : labels, drop, this.scheduler.config.num_train_timesteps, this.unet.nClasses);
    const eps = await this.net.predict(xs, cond);
    return both ? guide(eps, w) : eps;
  }

  /** Images in [-1, 1] (NHWC, flattened) for the requested labels. */
  async sample(req: SampleRequest): Promise<Float32Array> {
    const { labels, noiseIds, seed, w } = req;
    if (labels.length !== noiseIds.length || labels.length === 0)
      throw new Error(`sample: ${labels.length} labels and ${noiseIds.length} noise ids (need the same, non-zero, count)`);
    const noise = (req.noise ?? batchNoise)(seed, noiseIds);
    const length = this.unet.imageSize * this.unet.imageSize * this.unet.inChannels * labels.length;
    // A prefetching source draws a step's noise while the network predicts (only for the steps
    // that draw, so every image's stream advances exactly as with BatchNoise).
    const drawAhead = (draws: boolean) => {
      const p = draws && prefetching(noise) ? noise.prefetch(length) : Promise.resolve();
      p.catch(() => undefined); // awaited below; a failure during the prediction is not unhandled
      return p;
    };
    try {
      await drawAhead(true);
      let x = noise.normalArray(length);
      await req.onStart?.(x);
      for (const t of this.scheduler.timesteps) {
        const drawing = drawAhead(this.scheduler.addsNoise(t));
        const eps = await this.predictNoise(x, t, labels, w);
        await drawing;
        x = this.scheduler.step(eps, t, x, noise).prevSample;
        await req.onStep?.(t, x);
      }
      return x;
    } finally {
      if (prefetching(noise)) await noise.close();
    }
  }
}
