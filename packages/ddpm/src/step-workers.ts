/**
 * The sampler's per-image work on worker threads (Node only): each image's noise, guidance and
 * scheduler step (ImageSteps) run on a pool of threads, each owning a contiguous share of the
 * batch's images (step-worker.ts), while the main thread only runs the network and copies its
 * output into a buffer the threads share. The values are the sampler's own thread's: the same
 * generators, drawn in the same order, and the same arithmetic, so the images are the same bytes.
 * Worth it where the network runs elsewhere (a GPU): for 1000 images a step's host work (2.35
 * million normals, guidance, the scheduler's arithmetic) took 0.2-0.3 s of JavaScript on the
 * project's CPU, longer than the U-Net's forward for that batch on an H200 (49.8 ms TF32, 89 ms fp32).
 * For the device sampler (device-sampler.ts) the same threads draw only the noise (ImageNoise),
 * each step's while the network runs.
 */
import { checkImageBatch, networkLength, type ImageBatch, type ImageNoise, type ImageNoiser, type ImageStepper, type ImageSteps } from './sampler';
import { schedulerSpec, type SchedulerSpec } from './schedulers';
import { builtWorkerScript, WorkerThread } from './worker-thread';

/** What a thread is told about its share of a batch. */
export interface StepWorkerShare {
  /** 'step': noise, guidance and the scheduler's step (ImageSteps); 'noise': the noise alone (ImageNoise). */
  mode: 'step' | 'noise';
  scheduler: SchedulerSpec;
  seed: number;
  w: number;
  valuesPerImage: number;
  /** Images in the whole batch. */
  images: number;
  /** The share's first image in the batch, and its images' noise ids. */
  first: number;
  noiseIds: number[];
  /**
   * The network's input for the whole batch (float32): x, followed by x again when w != 0 (the
   * [cond, uncond] rows); and the network's output for it. In 'noise' mode: the batch's noise
   * (x_T, then each step's z), and no output.
   */
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
}

export type StepWorkerRequest = { type: 'open'; share: StepWorkerShare } | { type: 'start' } | { type: 'step'; t: number } | { type: 'noise'; t: number };

/** Waits for every request (a thread answers one at a time), then fails with the first failure. */
async function settleAll(requests: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(requests)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * A pool of `size` step threads, started when first needed and kept for the next batches until
 * close(). `imageSteps` is the sampler's ImageStepper, `imageNoise` the device sampler's
 * ImageNoiser (one batch at a time; a batch of fewer images than threads uses one thread per image).
 */
export class StepWorkerPool {
  private readonly threads: WorkerThread[] = [];
  private busy = false;
  private closed = false;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`step workers: the pool size must be a positive integer, got ${size}`);
  }

  readonly imageSteps: ImageStepper = (batch) => this.openSteps(batch);
  readonly imageNoise: ImageNoiser = (batch) => this.openNoise(batch);

  /** Opens a batch on the threads: its shared buffers, and the requests to all its threads. */
  private begin(batch: ImageBatch, mode: StepWorkerShare['mode']) {
    const length = checkImageBatch(batch);
    if (this.closed) throw new Error('step workers: the pool is closed');
    if (this.busy) throw new Error('step workers: the pool is already stepping a batch (one sample() at a time)');
    const spec = schedulerSpec(batch.scheduler);
    const { noiseIds, seed, w, valuesPerImage } = batch;
    const images = noiseIds.length;
    const n = Math.min(this.size, images);
    const script = this.threads.length < n ? builtWorkerScript('step-worker.js') : '';
    while (this.threads.length < n) this.threads.push(new WorkerThread(script, 'step workers'));
    const stepping = mode === 'step';
    const inputBuffer = new SharedArrayBuffer(4 * (stepping ? networkLength(batch) : length));
    const outputBuffer = new SharedArrayBuffer(stepping ? 4 * networkLength(batch) : 0);
    const threads = this.threads.slice(0, n);
    let first = 0;
    const opened = settleAll(
      threads.map((th, k) => {
        const count = Math.floor(images / n) + (k < images % n ? 1 : 0);
        const share: StepWorkerShare = {
          mode,
          scheduler: spec,
          seed,
          w,
          valuesPerImage,
          images,
          first,
          noiseIds: noiseIds.slice(first, first + count),
          input: inputBuffer,
          output: outputBuffer,
        };
        first += count;
        return th.request<void>({ type: 'open', share });
      }),
    );
    opened.catch(() => undefined); // awaited by start(); a batch closed unstarted leaves nothing unhandled
    this.busy = true;
    const all = (req: StepWorkerRequest) => settleAll(threads.map((th) => th.request<void>(req)));
    return {
      length,
      input: new Float32Array(inputBuffer),
      output: new Float32Array(outputBuffer),
      start: async () => {
        await opened;
        await all({ type: 'start' });
      },
      all,
      close: async () => {
        this.busy = false;
      },
    };
  }

  private openSteps(batch: ImageBatch): ImageSteps {
    const b = this.begin(batch, 'step');
    const x = b.input.subarray(0, b.length);
    let started = false;
    const ready = (view: Float32Array): Float32Array => {
      if (!started) throw new Error('image steps: start() first');
      return view;
    };
    return {
      start: async () => {
        await b.start();
        started = true;
      },
      step: async (modelOutput, t) => {
        ready(x);
        if (modelOutput.length !== b.output.length) throw new Error(`image steps: the model output has ${modelOutput.length} values, expected ${b.output.length}`);
        b.output.set(modelOutput);
        await b.all({ type: 'step', t });
      },
      sample: () => ready(x),
      networkInput: () => ready(b.input),
      close: b.close,
    };
  }

  private openNoise(batch: ImageBatch): ImageNoise {
    const b = this.begin(batch, 'noise');
    return {
      start: async () => {
        await b.start();
        return b.input;
      },
      next: async (t) => {
        await b.all({ type: 'noise', t });
        return b.input;
      },
      close: b.close,
    };
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.splice(0).map((th) => th.terminate()));
  }
}
