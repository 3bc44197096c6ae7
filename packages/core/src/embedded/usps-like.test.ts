import { loadMnist, mnistSplit } from './common';
import { inkBox, toUsps16, uspsLikeSamples, type UspsLikeSample } from './usps-like';

async function collect(seed: number, limit: number): Promise<UspsLikeSample[]> {
  const out: UspsLikeSample[] = [];
  for await (const s of uspsLikeSamples({ seed, limit })) out.push(s);
  return out;
}

/** Textbook bilinear enlargement with pixel centres at +0.5 and edge clamping. */
function bilinearUp(src: Uint8Array, n: number, m: number): Float64Array {
  const out = new Float64Array(m * m);
  const at = (y: number, x: number) => src[y * n + x]!;
  const coord = (i: number) => Math.max(0, Math.min(n - 1, ((i + 0.5) * n) / m - 0.5));
  for (let y = 0; y < m; y++) {
    for (let x = 0; x < m; x++) {
      const sy = coord(y),
        sx = coord(x);
      const y0 = Math.floor(sy),
        x0 = Math.floor(sx);
      const y1 = Math.min(n - 1, y0 + 1),
        x1 = Math.min(n - 1, x0 + 1);
      const fy = sy - y0,
        fx = sx - x0;
      out[y * m + x] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
    }
  }
  return out;
}

describe('usps-like recipe', () => {
  let a: UspsLikeSample[];
  beforeAll(async () => {
    a = await collect(5, 30);
  });

  it('is deterministic: same seed, same bytes; another seed, other images', async () => {
    const again = await collect(5, 30);
    again.forEach((s, i) => expect(Buffer.from(s.image.data).equals(Buffer.from(a[i]!.image.data))).toBe(true));
    const other = await collect(6, 30);
    const same = other.filter((s, i) => Buffer.from(s.image.data).equals(Buffer.from(a[i]!.image.data))).length;
    expect(same).toBeLessThan(3);
  });

  it('images are single-channel 28x28, enlarged from a 16x16 digit that fills its box', () => {
    for (const s of a) {
      expect(s.image).toMatchObject({ width: 28, height: 28, channels: 1 });
      expect(s.image.data.length).toBe(784);
      expect(s.small).toMatchObject({ width: 16, height: 16, channels: 1 });
      // The stored image is the 16x16 one enlarged bilinearly (checked with an independent
      // implementation; PIL's fixed-point rounding allows one grey level).
      const ref = bilinearUp(s.small.data, 16, 28);
      let maxDiff = 0;
      for (let i = 0; i < 784; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - s.image.data[i]!));
      expect(maxDiff).toBeLessThanOrEqual(1 + 1e-9);
      // USPS-style size normalisation: the long side of the ink spans the 16 px, contrast full.
      const box = inkBox(s.small.data, 16, 0);
      const w = box.x1 - box.x0 + 1,
        h = box.y1 - box.y0 + 1;
      expect(Math.max(w, h)).toBe(16);
      expect(Math.max(...s.small.data)).toBe(255);
    }
  });

  it('comes from the held-out MNIST digits, with their labels', () => {
    const digits = loadMnist();
    const { mnistm, uspsLike } = mnistSplit(5);
    const held = new Set(uspsLike);
    const used = new Set(mnistm);
    for (const s of a) {
      expect(held.has(s.mnistIndex)).toBe(true);
      expect(used.has(s.mnistIndex)).toBe(false);
      expect(s.label).toBe(digits[s.mnistIndex]!.label);
    }
  });

  it('toUsps16 keeps a tall digit tall and centres it', () => {
    const px = new Uint8Array(784);
    for (let y = 4; y < 24; y++) for (let x = 12; x < 16; x++) px[y * 28 + x] = 255; // a "1": 4 wide, 20 tall
    const small = toUsps16(px, 1);
    const box = inkBox(small.data, 16, 0);
    expect(box.y0).toBe(0);
    expect(box.y1).toBe(15);
    expect(box.x1 - box.x0 + 1).toBeLessThanOrEqual(5);
    expect(Math.abs((box.x0 + box.x1) / 2 - 7.5)).toBeLessThanOrEqual(1);
  });
});
