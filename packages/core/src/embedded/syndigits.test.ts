import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { loadSynEnv, readFontPack, renderSyn, sampleSynParams, syndigitsSamples, type SynEnv, type SyndigitsSample, type SynParams } from './syndigits';
import { itemRng, STREAM } from './common';
import type { RawImage } from '../image/io';

async function collect(seed: number, limit: number): Promise<SyndigitsSample[]> {
  const out: SyndigitsSample[] = [];
  for await (const s of syndigitsSamples({ seed, limit })) out.push(s);
  return out;
}

/** Grey ink mass (channel 0 of a white-on-black mask) and its centroid. */
function inkStats(img: RawImage): { mass: number; cx: number; cy: number } {
  let mass = 0,
    sx = 0,
    sy = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const v = img.data[(y * img.width + x) * img.channels]!;
      mass += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  return { mass, cx: sx / mass, cy: sy / mass };
}

/** Centre of the bounding box of the ink (channel 0 above half grey). */
function inkBoxCentre(img: RawImage): { x: number; y: number } {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.data[(y * img.width + x) * img.channels]! > 127) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x + 1);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y + 1);
      }
    }
  }
  return { x: (x0 + x1) / 2, y: (y0 + y1) / 2 };
}

/** Share of the ink of `part` that is also ink in `whole`. */
function containment(part: RawImage, whole: RawImage): number {
  let inter = 0,
    total = 0;
  for (let i = 0; i < part.data.length; i += 3) {
    inter += Math.min(part.data[i]!, whole.data[i]!);
    total += part.data[i]!;
  }
  return inter / total;
}

describe('syndigits recipe', () => {
  let env: SynEnv;
  let a: SyndigitsSample[];
  beforeAll(async () => {
    env = await loadSynEnv();
    a = await collect(3, 40);
  });

  it('is deterministic: same seed, same bytes; another seed, other images', async () => {
    const again = await collect(3, 40);
    again.forEach((s, i) => expect(Buffer.from(s.image.data).equals(Buffer.from(a[i]!.image.data))).toBe(true));
    const other = await collect(4, 40);
    const same = other.filter((s, i) => Buffer.from(s.image.data).equals(Buffer.from(a[i]!.image.data))).length;
    expect(same).toBe(0);
  });

  it('makes 28x28x3 images from 32x32 renderings of 1-3 digit numbers', () => {
    const lengths = new Set<number>();
    for (const s of a) {
      expect(s.image).toMatchObject({ width: 28, height: 28, channels: 3 });
      expect(s.image32).toMatchObject({ width: 32, height: 32, channels: 3 });
      expect(s.params.digits.length).toBeGreaterThanOrEqual(1);
      expect(s.params.digits.length).toBeLessThanOrEqual(3);
      lengths.add(s.params.digits.length);
    }
    expect(lengths.size).toBe(3);
  });

  it('the label is the digit drawn at the centre; neighbours are at the sides', () => {
    for (const s of a) {
      const p: SynParams = s.params;
      expect(s.label).toBe(p.digits[p.centre]);
      const centre = renderSyn(p, env, { only: 'centre', mask: true });
      const all = renderSyn(p, env, { mask: true });
      const c = inkStats(centre);
      expect(c.mass).toBeGreaterThan(255 * 20);
      // The labelled digit's ink is centred where the recipe put it, near the image centre.
      const box = inkBoxCentre(centre);
      expect(Math.abs(box.x - p.cx)).toBeLessThan(2);
      expect(Math.abs(box.y - p.cy)).toBeLessThan(2);
      expect(Math.abs(box.x - 16)).toBeLessThan(3.5);
      expect(Math.abs(box.y - 16)).toBeLessThan(3.5);
      // The full drawing contains the centre digit's glyph...
      expect(containment(centre, all)).toBeGreaterThan(0.97);
      // ...and neighbours, if any, lie to its sides.
      if (p.digits.length > 1) {
        const n = inkStats(renderSyn(p, env, { only: 'neighbours', mask: true }));
        if (n.mass > 255 * 10) {
          const leftOnly = p.centre === p.digits.length - 1,
            rightOnly = p.centre === 0;
          if (rightOnly) expect(n.cx).toBeGreaterThan(c.cx + 2);
          if (leftOnly) expect(n.cx).toBeLessThan(c.cx - 2);
        }
      }
    }
  });

  it('a different centre digit gives a different centre glyph', () => {
    const p = a[0]!.params;
    const own = renderSyn(p, env, { only: 'centre', mask: true });
    const all = renderSyn(p, env, { mask: true });
    const other = renderSyn(p, env, { only: 'centre', mask: true, replaceCentre: (p.digits[p.centre]! + 5) % 10 });
    expect(containment(own, all)).toBeGreaterThan(containment(other, all));
  });

  it('every font of the pack loads and draws all ten digits', () => {
    const fonts = readFontPack();
    expect(fonts.length).toBeGreaterThanOrEqual(30);
    const base = sampleSynParams(itemRng(1, STREAM.syndigits, 0), env);
    for (const f of fonts) {
      for (let d = 0; d < 10; d++) {
        const p: SynParams = { ...base, font: f.family, fontFile: f.file, digits: [d], centre: 0, rotation: 0, skewX: 0, scaleX: 1, cx: 16, cy: 16, digitHeight: 20 };
        const ink = inkStats(renderSyn(p, env, { mask: true }));
        if (ink.mass < 255 * 8) throw new Error(`font ${f.file} draws no ink for ${d}`);
      }
    }
  });
});

test('importing core does not load @napi-rs/canvas; drawing the first syndigits sample does', () => {
  const register = path.join(__dirname, '..', '..', '..', '..', 'jest.ts-register.js');
  const index = JSON.stringify(path.join(__dirname, '..', 'index.ts'));
  const loaded = String.raw`Object.keys(require.cache).some((k) => /[\\/]@napi-rs[\\/]canvas[\\/]/.test(k))`;
  const run = (script: string) => {
    const r = spawnSync(process.execPath, ['-r', register, '-e', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    return r.stdout.trim().split('\n').pop();
  };
  expect(run(`require(${index}); console.log(${loaded})`)).toBe('false');
  const drawn = `const c = require(${index});
    (async () => { for await (const s of c.syndigitsSamples({ seed: 0, limit: 1 })) break; console.log(${loaded}); })();`;
  expect(run(drawn)).toBe('true');
});
