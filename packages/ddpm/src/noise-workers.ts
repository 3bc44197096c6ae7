/**
 * The sampler's noise drawn by worker threads (Node only): each worker owns a contiguous share of
 * the images' generators (imageNoiseRng's streams, the same PCG32 code from @dlcv/core) and draws
 * their values for a step while the main thread waits on the network, so a step's noise costs
 * no main-thread time and its values are BatchNoise's, byte for byte. Worth it where the network
 * runs elsewhere (a GPU): the 2.35 million normals of one step for 1000 images take ~0.2 s of
 * JavaScript, several times the U-Net's forward on an H200.
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

/** One worker's share: the index of its first image, and its thread. */
interface Share {
  first: number;
  worker: Worker;
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
    await Promise.all(
      this.shares.map(
        (s) =>
          new Promise<void>((resolve, reject) => {
            const onError = (e: Error) => reject(new Error(`worker noise: a worker failed: ${e.message}`));
            s.worker.once('error', onError);
            s.worker.once('message', (part: Float32Array) => {
              s.worker.off('error', onError);
              out.set(part, s.first * per);
              resolve();
            });
            s.worker.postMessage(per);
          }),
      ),
    );
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
      shares.push({ first, worker });
      first += count;
    }
    return new WorkerBatchNoise(shares, streams.length);
  };
}
