import { Rng } from '@dlcv/core';
import { tsne2d } from './tsne';

/** Two Gaussian blobs of `per` points in `dim` dimensions, centres `gap` apart. */
function blobs(per: number, dim: number, gap: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(2 * per * dim);
  for (let i = 0; i < 2 * per; i++) {
    for (let d = 0; d < dim; d++) out[i * dim + d] = rng.normal() + (i >= per && d === 0 ? gap : 0);
  }
  return out;
}

describe('tsne2d', () => {
  const data = blobs(30, 10, 20, 1);

  it('returns n x 2 finite coordinates', () => {
    const y = tsne2d(data, 60, 10, { perplexity: 10, iterations: 200, seed: 1 });
    expect(y).toBeInstanceOf(Float64Array);
    expect(y.length).toBe(120);
    expect(Array.from(y).every(Number.isFinite)).toBe(true);
  });

  it('is deterministic for a seed, and the seed matters', () => {
    const a = tsne2d(data, 60, 10, { perplexity: 10, iterations: 150, seed: 7 });
    const b = tsne2d(data, 60, 10, { perplexity: 10, iterations: 150, seed: 7 });
    const c = tsne2d(data, 60, 10, { perplexity: 10, iterations: 150, seed: 8 });
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
  });

  it("keeps well-separated clusters apart: every point's nearest embedded neighbour is from its own blob", () => {
    const y = tsne2d(data, 60, 10, { perplexity: 10, iterations: 300, seed: 3 });
    for (let i = 0; i < 60; i++) {
      let best = -1,
        bestD = Infinity;
      for (let j = 0; j < 60; j++) {
        if (j === i) continue;
        const d = ((y[2 * i] as number) - (y[2 * j] as number)) ** 2 + ((y[2 * i + 1] as number) - (y[2 * j + 1] as number)) ** 2;
        if (d < bestD) [best, bestD] = [j, d];
      }
      expect(best >= 30).toBe(i >= 30);
    }
  });

  it('rejects bad input', () => {
    expect(() => tsne2d(data, 61, 10)).toThrow(/need 610 numbers/);
    expect(() => tsne2d(data, 60, 10, { perplexity: 60 })).toThrow(/perplexity must be in \(0, 60\)/);
    const withNaN = data.slice();
    withNaN[25] = NaN;
    expect(() => tsne2d(withNaN, 60, 10, { perplexity: 10 })).toThrow(/value 25 \(point 2\) is not finite/);
    expect(() => tsne2d(new Float32Array(1), 1, 1)).toThrow(/at least 2 points/);
  });
});
