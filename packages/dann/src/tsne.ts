/**
 * Exact t-SNE (van der Maaten & Hinton 2008) through @keckelt/tsne, the maintained TypeScript
 * release of Karpathy's tsnejs: perplexity-calibrated Gaussian affinities, Student-t
 * similarities, early exaggeration x4 for 100 iterations, momentum 0.5 -> 0.8 at 250, gains.
 * Its only random draw is the initial layout, N(0, 1e-4) through its public `gaussRandom`,
 * which is pointed at our seeded Rng: same seed, same embedding, to the bit.
 * O(N^2) time and memory per iteration: meant for a few thousand points at most.
 */
import { TSNE } from '@keckelt/tsne';
import { Rng } from '@dlcv/core';

export interface TsneOptions {
  perplexity?: number;
  iterations?: number;
  /** Learning rate (the library's default 10). */
  learningRate?: number;
  seed?: number;
}

/**
 * Embeds n points of `dim` values each (row-major) in 2-D; returns n x 2 row-major.
 */
export function tsne2d(data: Float32Array | Float64Array, n: number, dim: number, options: TsneOptions = {}): Float64Array {
  const { perplexity = 30, iterations = 1000, learningRate = 10, seed = 0 } = options;
  if (!Number.isInteger(n) || n < 2) throw new Error(`t-SNE: need at least 2 points, got ${n}`);
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`t-SNE: dimension must be a positive integer, got ${dim}`);
  if (data.length !== n * dim) throw new Error(`t-SNE: ${n} points of ${dim} values need ${n * dim} numbers, got ${data.length}`);
  if (!(perplexity > 0) || perplexity >= n) throw new Error(`t-SNE: perplexity must be in (0, ${n}) for ${n} points, got ${perplexity}`);
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`t-SNE: iterations must be a positive integer, got ${iterations}`);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i] as number)) throw new Error(`t-SNE: value ${i} (point ${Math.floor(i / dim)}) is not finite`);
  const rng = new Rng(seed, 9001);
  const model = new TSNE({ perplexity, dim: 2, epsilon: learningRate });
  model.gaussRandom = () => rng.normal();
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(data.subarray(i * dim, (i + 1) * dim)));
  model.initDataRaw(rows);
  for (let k = 0; k < iterations; k++) model.step();
  const y = model.getSolution() as number[][];
  const out = new Float64Array(n * 2);
  y.forEach((p, i) => {
    out[2 * i] = p[0] as number;
    out[2 * i + 1] = p[1] as number;
  });
  return out;
}
