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
import { Rng } from '@dlcv/core/browser';
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

/** The noise of a batch of images, each from its own generator (imageNoiseRng). */
export function imageBatchNoise(seed: number, noiseIds: number[]): BatchNoise {
  return new BatchNoise(noiseIds.map((id) => imageNoiseRng(seed, id)));
}

/** What one sample() call hands to its image steps: the batch and how it is stepped. */
export interface ImageBatch {
  scheduler: Scheduler;
  seed: number;
  /** One noise id per image (see imageNoiseRng). */
  noiseIds: number[];
  /** Guidance weight; 0: the network's output holds the conditional half only. */
  w: number;
  /** Values per image (size x size x channels). */
  valuesPerImage: number;
}

/**
 * The per-image part of sampling for one batch: each image's noise (x_T and each step's z, from
 * its own generator), guidance and the scheduler's step, and the network's input. On this thread
 * (inlineImageSteps) or on worker threads (step-workers.ts); the values are the same.
 */
export interface ImageSteps {
  /** Draws x_T. */
  start(): Promise<void>;
  /** Steps x from t to the next timestep, from the network's output at t ([cond, uncond] halves when w != 0). */
  step(modelOutput: Float32Array, t: number): Promise<void>;
  /** x now; valid until the next step (copy it to keep it). */
  sample(): Float32Array;
  /** The network's input for x now: x, or x twice (the [cond, uncond] rows) when w != 0; valid until the next step. */
  networkInput(): Float32Array;
  /** Ends the batch (the stepper may be reused by the next one). */
  close(): Promise<void>;
}

/** Makes the image steps of one sample() call. */
export type ImageStepper = (batch: ImageBatch) => ImageSteps;

/** Validates a batch for any stepper (the errors a caller gets whichever runs it); returns x's length. */
export function checkImageBatch(batch: ImageBatch): number {
  const { noiseIds, w, valuesPerImage } = batch;
  if (!Number.isFinite(w)) throw new Error(`guidance: w must be a finite number, got ${w}`);
  if (!Number.isInteger(valuesPerImage) || valuesPerImage < 1) throw new Error(`image steps: values per image must be a positive integer, got ${valuesPerImage}`);
  if (noiseIds.length === 0) throw new Error('image steps: a batch needs at least one image');
  noiseIds.forEach(imageNoiseStream);
  return valuesPerImage * noiseIds.length;
}

/** The network's input and output length for a batch: two rows an image when guided. */
export function networkLength(batch: ImageBatch): number {
  const length = batch.valuesPerImage * batch.noiseIds.length;
  return batch.w !== 0 ? 2 * length : length;
}

/** x twice, end to end: the guided batch's [cond, uncond] rows. */
function twice(x: Float32Array): Float32Array {
  const out = new Float32Array(2 * x.length);
  out.set(x);
  out.set(x, x.length);
  return out;
}

/** Image steps on the sampler's own thread. */
export const inlineImageSteps: ImageStepper = (batch) => {
  const length = checkImageBatch(batch);
  const { scheduler, seed, noiseIds, w } = batch;
  const noise = imageBatchNoise(seed, noiseIds);
  let x: Float32Array | null = null;
  const current = () => {
    if (!x) throw new Error('image steps: start() first');
    return x;
  };
  return {
    start: async () => void (x = noise.normalArray(length)),
    step: async (modelOutput, t) => {
      const xt = current();
      if (modelOutput.length !== networkLength(batch)) throw new Error(`image steps: the model output has ${modelOutput.length} values, expected ${networkLength(batch)}`);
      const next = new Float32Array(length);
      scheduler.stepInto(w !== 0 ? guide(modelOutput, w) : modelOutput, t, xt, noise, next);
      x = next;
    },
    sample: current,
    networkInput: () => (w !== 0 ? twice(current()) : current()),
    close: async () => undefined,
  };
};

/**
 * A batch's noise alone, from the images' own generators, for a sampler whose arithmetic runs
 * elsewhere (device-sampler.ts): x_T, then z for each step that adds noise, in schedule order.
 * Each array is valid until the next call.
 */
export interface ImageNoise {
  start(): Promise<Float32Array>;
  /** The noise of step t, a step that adds noise (the steps in schedule order). */
  next(t: number): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Makes a batch's ImageNoise. */
export type ImageNoiser = (batch: ImageBatch) => ImageNoise;

/** The noise on this thread, drawn when asked. */
export const inlineImageNoise: ImageNoiser = (batch) => {
  const length = checkImageBatch(batch);
  const noise = imageBatchNoise(batch.seed, batch.noiseIds);
  return { start: async () => noise.normalArray(length), next: async () => noise.normalArray(length), close: async () => undefined };
};

export interface SampleRequest {
  /** One class per image. */
  labels: number[];
  /** One noise id per image (see imageNoiseRng). */
  noiseIds: number[];
  seed: number;
  /** Guidance weight. */
  w: number;
  /** Called with the initial noise x_T, before the first step (`sample` is valid during the call: copy it to keep it). */
  onStart?: (sample: Float32Array) => void | Promise<void>;
  /** Called after every step with the timestep just taken and x at the next timestep (valid during the call). */
  onStep?: (t: number, sample: Float32Array) => void | Promise<void>;
  /** Called after every step with the timestep just taken, without x (the device sampler then downloads nothing). */
  onProgress?: (t: number) => void | Promise<void>;
  /** Who runs noise, guidance and scheduler steps (default: this thread); any gives the same values. */
  imageSteps?: ImageStepper;
}

/**
 * How a guided batch's two rows an image go through the U-Net: all of it twice ('full', the
 * reference's way), or its down path once per image ('shared': guided-forward.ts; the same
 * function in 19% fewer multiply-adds).
 */
export const GUIDED_FORWARDS = ['shared', 'full'] as const;
export type GuidedForward = (typeof GUIDED_FORWARDS)[number];

/** What runs the U-Net for sampling: tfjs (tfjsNoiseNet) or ONNX Runtime (onnx-net.ts). */
export interface NoiseNet {
  /**
   * The noise prediction for n rows: x is [n, S, S, C] flattened, cond holds n conditions. x
   * may be reused (overwritten) once the returned promise settles: read it, do not keep it.
   * `guided`: the rows are the [cond, uncond] halves of guidance, x holding each image twice
   * ([x; x]), which a net may read once.
   */
  predict(x: Float32Array, cond: ConditionArrays, guided?: boolean): Promise<Float32Array>;
}

export class DiffusionSampler {
  constructor(
    readonly net: NoiseNet,
    readonly scheduler: Scheduler,
    readonly unet: UnetConfig,
  ) {}

  /** The guided noise prediction for a batch at timestep t. */
  async predictNoise(sample: Float32Array, t: number, labels: number[], w: number): Promise<Float32Array> {
    const out = await this.net.predict(w !== 0 ? twice(sample) : sample, this.conditions(t, labels, w), w !== 0);
    return w !== 0 ? guide(out, w) : out;
  }

  /** The network's conditions at t: the labels, and when w != 0 the same labels dropped (the unconditional rows). */
  conditions(t: number, labels: number[], w: number): ConditionArrays {
    const both = w !== 0;
    const n = both ? 2 * labels.length : labels.length;
    const drop = new Float32Array(n);
    if (both) drop.fill(1, labels.length);
    return conditionArrays(new Array<number>(n).fill(t), both ? [...labels, ...labels] : labels, drop, this.scheduler.config.num_train_timesteps, this.unet.nClasses);
  }

  /** The batch a request samples (its labels checked against its noise ids), for its image steps or noise. */
  imageBatch(req: SampleRequest): ImageBatch {
    const { labels, noiseIds, seed, w } = req;
    if (labels.length !== noiseIds.length || labels.length === 0)
      throw new Error(`sample: ${labels.length} labels and ${noiseIds.length} noise ids (need the same, non-zero, count)`);
    return { scheduler: this.scheduler, seed, noiseIds, w, valuesPerImage: this.unet.imageSize * this.unet.imageSize * this.unet.inChannels };
  }

  /** Images in [-1, 1] (NHWC, flattened) for the requested labels. */
  async sample(req: SampleRequest): Promise<Float32Array> {
    const { labels, w } = req;
    const steps = (req.imageSteps ?? inlineImageSteps)(this.imageBatch(req));
    try {
      await steps.start();
      await req.onStart?.(steps.sample());
      for (const t of this.scheduler.timesteps) {
        await steps.step(await this.net.predict(steps.networkInput(), this.conditions(t, labels, w), w !== 0), t);
        await req.onStep?.(t, steps.sample());
        await req.onProgress?.(t);
      }
      return steps.sample().slice();
    } finally {
      await steps.close();
    }
  }
}
