import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { EMBEDDED_DIGIT_SETS, embeddedDigitsDir, ensureEmbeddedDigits, readEmbeddedManifest, type EmbeddedDigitSet } from './build';
import { makeSampleSheet } from './sample-sheet';

const LIMIT = 30;

async function treeHash(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(d: string): Promise<void> {
    for (const e of (await fs.readdir(d, { withFileTypes: true })).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else
        out.set(
          path.relative(dir, p),
          createHash('sha256')
            .update(await fs.readFile(p))
            .digest('hex'),
        );
    }
  }
  await walk(dir);
  return out;
}

function parseCsv(text: string): { header: string; rows: Array<[string, number]> } {
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  return {
    header: lines[0]!,
    rows: lines.slice(1).map((l) => {
      const [n, lab] = l.split(',');
      return [n!, Number(lab)];
    }),
  };
}

describe('embedded digit sets on disk', () => {
  let cache: string;
  beforeAll(async () => {
    cache = await fs.mkdtemp(path.join(os.tmpdir(), 'dlcv-embedded-'));
  });
  afterAll(async () => {
    await fs.rm(cache, { recursive: true, force: true });
  });

  it.each(EMBEDDED_DIGIT_SETS.map((n) => [n]))('%s: homework layout, exact header, 80/20 split, every row a file', async (name) => {
    const set = name as EmbeddedDigitSet;
    const dir = await ensureEmbeddedDigits(set, { cacheDir: cache, seed: 9, limit: LIMIT });
    expect(dir).toBe(embeddedDigitsDir(set, cache, { seed: 9, limit: LIMIT }));
    expect(dir).toBe(path.join(cache, 'digits', `${set}.seed-9.limit-${LIMIT}`));
    const files = (await fs.readdir(path.join(dir, 'data'))).sort();
    expect(files).toEqual(Array.from({ length: LIMIT }, (_, i) => `${String(i).padStart(5, '0')}.png`));
    const train = parseCsv(await fs.readFile(path.join(dir, 'train.csv'), 'utf8'));
    const val = parseCsv(await fs.readFile(path.join(dir, 'val.csv'), 'utf8'));
    expect(train.header).toBe('image_name,label');
    expect(val.header).toBe('image_name,label');
    expect(train.rows.length).toBe(24);
    expect(val.rows.length).toBe(6);
    const names = [...train.rows, ...val.rows].map(([n]) => n);
    expect(new Set(names).size).toBe(LIMIT);
    expect([...names].sort()).toEqual(files);
    const channels = set === 'usps-like' ? 1 : 3;
    for (const [n, label] of [...train.rows, ...val.rows]) {
      expect(Number.isInteger(label) && label >= 0 && label <= 9).toBe(true);
      const meta = await sharp(path.join(dir, 'data', n)).metadata();
      expect([meta.width, meta.height, meta.channels]).toEqual([28, 28, channels]);
    }
    const m = await readEmbeddedManifest(dir);
    expect(m).toMatchObject({ name: set, seed: 9, limit: LIMIT, count: LIMIT, train: 24, val: 6, image: { width: 28, height: 28, channels } });
    const hist = new Array<number>(10).fill(0);
    for (const [, label] of [...train.rows, ...val.rows]) hist[label]! += 1;
    expect(m!.labels).toEqual(hist);
    const sheet = await makeSampleSheet(dir, { perDigit: 3, scale: 1, gap: 1 });
    expect(sheet).toMatchObject({ width: 1 + 3 * 29, height: 1 + 10 * 29, channels: 3 });
  });

  it('same seed gives byte-identical folders; another seed does not', async () => {
    const other = path.join(cache, 'again');
    const d1 = await ensureEmbeddedDigits('mnistm', { cacheDir: cache, seed: 9, limit: LIMIT });
    const d2 = await ensureEmbeddedDigits('mnistm', { cacheDir: other, seed: 9, limit: LIMIT });
    expect(await treeHash(d2)).toEqual(await treeHash(d1));
    const d3 = await ensureEmbeddedDigits('mnistm', { cacheDir: path.join(cache, 'seed10'), seed: 10, limit: LIMIT });
    const h1 = await treeHash(d1),
      h3 = await treeHash(d3);
    expect(h3.get('data/00000.png')).not.toBe(h1.get('data/00000.png'));
  });

  it('a complete matching set is reused; other seeds and limits live beside it', async () => {
    const dir = await ensureEmbeddedDigits('usps-like', { cacheDir: cache, seed: 9, limit: LIMIT });
    const before = (await fs.stat(path.join(dir, 'manifest.json'))).mtimeMs;
    const logs: string[] = [];
    await ensureEmbeddedDigits('usps-like', { cacheDir: cache, seed: 9, limit: LIMIT, log: (m) => logs.push(m) });
    expect(logs).toEqual([]);
    expect((await fs.stat(path.join(dir, 'manifest.json'))).mtimeMs).toBe(before);
    const other = await ensureEmbeddedDigits('usps-like', { cacheDir: cache, seed: 8, limit: LIMIT, log: (m) => logs.push(m) });
    expect(other).not.toBe(dir);
    expect(logs.some((l) => l.includes('building'))).toBe(true);
    expect((await readEmbeddedManifest(other))!.seed).toBe(8);
    expect((await readEmbeddedManifest(dir))!.seed).toBe(9);
    expect(embeddedDigitsDir('usps-like', cache)).toBe(path.join(cache, 'digits', 'usps-like'));
    expect(embeddedDigitsDir('usps-like', cache, { seed: 2022 })).toBe(path.join(cache, 'digits', 'usps-like'));
    expect(embeddedDigitsDir('usps-like', cache, { seed: 7 })).toBe(path.join(cache, 'digits', 'usps-like.seed-7'));
  });

  it('a folder with a manifest of another build is rebuilt', async () => {
    const dir = await ensureEmbeddedDigits('usps-like', { cacheDir: cache, seed: 9, limit: LIMIT });
    const file = path.join(dir, 'manifest.json');
    const m = JSON.parse(await fs.readFile(file, 'utf8')) as { seed: number };
    await fs.writeFile(file, JSON.stringify({ ...m, seed: 1234 }));
    const logs: string[] = [];
    await ensureEmbeddedDigits('usps-like', { cacheDir: cache, seed: 9, limit: LIMIT, log: (l) => logs.push(l) });
    expect(logs.some((l) => l.includes('building'))).toBe(true);
    expect((await readEmbeddedManifest(dir))!.seed).toBe(9);
  });

  it('a set built from other inputs (photo or font pack) is rebuilt', async () => {
    const dir = await ensureEmbeddedDigits('usps-like', { cacheDir: cache, seed: 9, limit: LIMIT });
    const file = path.join(dir, 'manifest.json');
    const m = JSON.parse(await fs.readFile(file, 'utf8')) as { sourcesSha256: string };
    const good = m.sourcesSha256;
    await fs.writeFile(file, JSON.stringify({ ...m, sourcesSha256: 'another pack' }));
    const logs: string[] = [];
    await ensureEmbeddedDigits('usps-like', { cacheDir: cache, seed: 9, limit: LIMIT, log: (l) => logs.push(l) });
    expect(logs.some((l) => l.includes('building'))).toBe(true);
    expect((await readEmbeddedManifest(dir))!.sourcesSha256).toBe(good);
  });

  it('an interrupted build (no manifest, a stale .tmp folder) is rebuilt', async () => {
    const cacheDir = path.join(cache, 'interrupted');
    const dir = embeddedDigitsDir('mnistm', cacheDir, { seed: 9, limit: 12 });
    // What a killed build leaves: a half-written temp folder of a dead process, and a set
    // folder with images but no manifest.
    const stale = `${dir}.tmp-999999999`;
    await fs.mkdir(path.join(stale, 'data'), { recursive: true });
    await fs.writeFile(path.join(stale, 'data', '00000.png'), 'half');
    await fs.mkdir(path.join(dir, 'data'), { recursive: true });
    await fs.writeFile(path.join(dir, 'data', '00000.png'), 'broken');
    await fs.writeFile(path.join(dir, 'data', '99999.png'), 'leftover');
    const logs: string[] = [];
    const out = await ensureEmbeddedDigits('mnistm', { cacheDir, seed: 9, limit: 12, log: (m) => logs.push(m) });
    expect(out).toBe(dir);
    expect(logs.some((l) => l.includes('building'))).toBe(true);
    expect(await readEmbeddedManifest(dir)).toMatchObject({ name: 'mnistm', count: 12 });
    const files = await fs.readdir(path.join(dir, 'data'));
    expect(files).toHaveLength(12);
    expect(files).not.toContain('99999.png');
    expect((await sharp(path.join(dir, 'data', '00000.png')).metadata()).width).toBe(28);
    const siblings = await fs.readdir(path.dirname(dir));
    expect(siblings.filter((s) => s.includes('.tmp-') || s.includes('.old-'))).toEqual([]);
  });

  it('concurrent calls in one process build once', async () => {
    const cacheDir = path.join(cache, 'concurrent');
    const logs: string[] = [];
    const log = (m: string) => logs.push(m);
    const [a, b] = await Promise.all([
      ensureEmbeddedDigits('usps-like', { cacheDir, seed: 1, limit: 10, log }),
      ensureEmbeddedDigits('usps-like', { cacheDir, seed: 1, limit: 10, log }),
    ]);
    expect(a).toBe(b);
    expect(logs.filter((l) => l.includes('building'))).toHaveLength(1);
  });

  it('rejects unknown sets and bad options', async () => {
    expect(() => embeddedDigitsDir('svhn' as EmbeddedDigitSet, cache)).toThrow(/unknown embedded digit set/);
    await expect(ensureEmbeddedDigits('mnistm', { cacheDir: cache, limit: 0 })).rejects.toThrow(/limit/);
    await expect(ensureEmbeddedDigits('mnistm', { cacheDir: cache, seed: -1 })).rejects.toThrow(/seed/);
  });

  it('defaults to DLCV_CACHE_DIR', () => {
    const prev = process.env.DLCV_CACHE_DIR;
    process.env.DLCV_CACHE_DIR = '/some/where';
    try {
      expect(embeddedDigitsDir('syndigits')).toBe(path.join('/some/where', 'digits', 'syndigits'));
    } finally {
      if (prev === undefined) delete process.env.DLCV_CACHE_DIR;
      else process.env.DLCV_CACHE_DIR = prev;
    }
  });
});
