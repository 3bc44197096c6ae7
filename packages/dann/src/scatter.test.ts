import sharp from 'sharp';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PALETTE, scatterSvg, writeScatter } from './scatter';

const spec = { title: 'a <b>', points: [0, 0, 1, 1, 2, -1], category: [0, 1, 1], categories: ['source', 'target'] };

describe('scatter plots', () => {
  it('draws one dot per point in its category colour, and a legend entry per category', () => {
    const svg = scatterSvg(spec);
    const dots = [...svg.matchAll(/<circle [^>]*r="2\.5" fill="([^"]+)"/g)].map((m) => m[1]);
    expect(dots).toEqual([PALETTE[0], PALETTE[1], PALETTE[1]]);
    expect(svg).toContain('>source</text>');
    expect(svg).toContain('>target</text>');
    expect(svg).toContain('a &lt;b&gt;');
  });

  it('places points by their coordinates (x right, y up), same scale on both axes', () => {
    const svg = scatterSvg({ ...spec, points: [0, 0, 2, 0, 0, 2], category: [0, 0, 0] });
    const xy = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="2\.5"/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    const [p0, p1, p2] = xy as [readonly [number, number], readonly [number, number], readonly [number, number]];
    expect(p1[0] - p0[0]).toBeGreaterThan(0);
    expect(p1[1]).toBeCloseTo(p0[1], 2);
    expect(p2[1]).toBeLessThan(p0[1]);
    expect(p1[0] - p0[0]).toBeCloseTo(p0[1] - p2[1], 2);
  });

  it('writes the same PNG bytes twice, at twice the CSS size', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dann-scatter-'));
    const a = path.join(dir, 'a.png'),
      b = path.join(dir, 'b.png');
    await writeScatter(a, { ...spec, size: 300 });
    await writeScatter(b, { ...spec, size: 300 });
    expect((await fs.readFile(a)).equals(await fs.readFile(b))).toBe(true);
    const meta = await sharp(a).metadata();
    expect([meta.width, meta.height]).toEqual([600, 600]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('rejects mismatched or out-of-range input', () => {
    expect(() => scatterSvg({ ...spec, category: [0, 1] })).toThrow(/2 categories but 3 points/);
    expect(() => scatterSvg({ ...spec, category: [0, 1, 2] })).toThrow(/point 2 has category 2/);
    expect(() => scatterSvg({ ...spec, points: [0, 0, NaN, 1, 2, 2] })).toThrow(/point 1 is not finite/);
  });
});
