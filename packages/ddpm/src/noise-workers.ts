/**
 * The sampler's noise drawn by worker threads (Node only): each worker owns a contiguous share of
 * the images' generators (imageNoiseRng's streams, the same PCG32 code from @dlcv/core) and draws
 * their values for a step while the main thread waits on the network, so a step's noise costs
 * no main-thread time and its values are BatchNoise's, byte for byte. Worth it where the network
 * runs elsewhere (a GPU): the 2.35 million normals of one step for 1000 images took 0.2 s of
 * JavaScript on the project's CPU, two to four times the U-Net's forward for that batch on an
 * H200 (49.8 ms TF32, 89 ms fp32).
 */
import { Worker } from 'node:worker_threads';
import { imageNoiseStream, type NoiseFactory, type PrefetchingNoise } from './sampler';

// The worker: rebuilds its images' generators and answers each request `per` (values per image)
// with its images' next draws, back to back, as BatchNoise lays them out.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Rng } = require(workerData.rngModule);
const rngs = workerData.streams.map((stream) => new Rng(workerData.seed, stream));
parentPort.on('message', (per) => {
  const out = new Float32Array(per * rngs.length);
  rngs.forEach((rng, i) => out.set(rng.normalArray(per), i * per));
  parentPort.postMessage(out, [out.buffer]);
});
`;

/** One worker's share: the index of its first image, its thread, and why it stopped, if it did. */
interface Share {
  first: number;
  worker: Worker;
  down?: string;
}

/** The share's next `per` values per image; rejects when its worker fails or exits. */
function request(s: Share, per: number): Promise<Float32Array> {
  return new Promise((resolve, reject) => {
    if (s.down) return reject(new Error(`worker noise: a worker ${s.down}`));
    const settle = (done: () => void) => {
      s.worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      done();
    };
    const onMessage = (part: Float32Array) => settle(() => resolve(part));
    const onError = (e: Error) => settle(() => reject(new Error(`worker noise: a worker failed: ${e.message}`)));
    const onExit = (code: number) => settle(() => reject(new Error(`worker noise: a worker exited (code ${code})`)));
    s.worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    s.worker.postMessage(per);
  });
}

class WorkerBatchNoise implements PrefetchingNoise {
  private drawn: Float32Array | null = null;

  constructor(
    private readonly shares: Share[],
    private readonly images: number,
  ) {}

  async prefetch(length: number): Promise<void> {
    if (length % this.images !== 0) throw new Error(`worker noise: ${length} values cannot be split over ${this.images} images`);
    if (this.drawn) throw new Error('worker noise: a prefetched draw was not taken');
    const per = length / this.images;
    const out = new Float32Array(length);
    const parts = await Promise.all(this.shares.map((s) => request(s, per)));
    parts.forEach((part, k) => out.set(part, this.shares[k]!.first * per));
    this.drawn = out;
  }

  normalArray(length: number): Float32Array {
    const out = this.drawn;
    if (!out || out.length !== length) throw new Error(`worker noise: normalArray(${length}) without a prefetch of that length`);
    this.drawn = null;
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.shares.map((s) => s.worker.terminate()));
  }
}

/**
 * A NoiseFactory whose sources draw on `workers` threads (at most one per image). The values are
 * BatchNoise's: the same generators, each drawn in the same order.
 */
export function workerNoise(workers: number): NoiseFactory {
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`worker noise: workers must be a positive integer, got ${workers}`);
  const rngModule = require.resolve('@dlcv/core/browser'); // Rng without tfjs
  return (seed, noiseIds) => {
    const streams = noiseIds.map(imageNoiseStream);
    const n = Math.min(workers, streams.length);
    const shares: Share[] = [];
    for (let k = 0, first = 0; k < n; k++) {
      const count = Math.floor(streams.length / n) + (k < streams.length % n ? 1 : 0);
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { rngModule, seed, streams: streams.slice(first, first + count) } });
      const share: Share = { first, worker };
      // between requests a failure is kept for the next one (and does not crash the process)
      worker.on('error', (e) => (share.down ??= `failed: ${e.message}`)).on('exit', (code) => (share.down ??= `exited (code ${code})`));
      shares.push(share);
      first += count;
    }
    return new WorkerBatchNoise(shares, streams.length);
  };
}
