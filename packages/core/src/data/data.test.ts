import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '../engine/engine';
import { writePng, type RawImage } from '../image/io';
import { Rng } from '../rng';
import { parseLabelCsv } from './csv';
import { ImageDataset, ImageSetError, pixelsToFloat, preloadAll } from './dataset';
import { listImages, openDigits } from './digits';
import { openImageFolder } from './image-folder';

function solid(width: number, height: number, channels: 1 | 3, value: (i: number) => number): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = value(i) & 255;
  return { width, height, channels, data };
}

async function makeDigits(root: string, n: number, channels: 1 | 3 = 3): Promise<void> {
  await fs.mkdir(path.join(root, 'data'), { recursive: true });
  const rows = ['image_name,label'];
  for (let i = 0; i < n; i++) {
    const name = `${String(i).padStart(5, '0')}.png`;
    await writePng(
      path.join(root, 'data', name),
      solid(28, 28, channels, (k) => i * 10 + k),
    );
    rows.push(`${name},${i % 10}`);
  }
  await fs.writeFile(path.join(root, 'train.csv'), rows.join('\n') + '\n');
  await fs.writeFile(path.join(root, 'val.csv'), rows.slice(0, 3).join('\n') + '\n');
}

let tmp: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'dlcv-data-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('label CSV', () => {
  it('parses rows and tolerates a BOM, CRLF and a trailing newline', () => {
    const rows = parseLabelCsv('\uFEFFimage_name,label\r\na.png,3\r\nb.png,9\r\n', 'x.csv');
    expect(rows).toEqual([
      { imageName: 'a.png', label: 3, line: 2 },
      { imageName: 'b.png', label: 9, line: 3 },
    ]);
  });
  it.each([
    ['name,label\na.png,1\n', /x\.csv:1: expected the header "image_name,label", found "name,label"/],
    ['a.png,1\n', /x\.csv:1: expected the header/],
    ['image_name,label\na.png,10\n', /x\.csv:2: label 10 outside 0-9/],
    ['image_name,label\na.png,-1\n', /x\.csv:2: label -1 outside 0-9/],
    ['image_name,label\na.png,one\n', /x\.csv:2: label "one" is not an integer/],
    ['image_name,label\na.png,1\nb.png\n', /x\.csv:3: expected 2 fields/],
    ['image_name,label\na.png,1\na.png,2\n', /x\.csv:3: image_name "a.png" already listed on line 2/],
    ['image_name,label\n../a.png,1\n', /x\.csv:2: image_name "..\/a.png" must be a plain file name/],
    ['image_name,label\n', /x\.csv: no rows after the header/],
  ])('rejects %j', (text, message) => {
    expect(() => parseLabelCsv(text, 'x.csv')).toThrow(message);
  });
});

describe('digits folder', () => {
  it('loads a split with labels, shapes and [-1,1] scaling', async () => {
    const root = path.join(tmp, 'ok');
    await makeDigits(root, 12);
    const ds = await openDigits(root, 'train');
    expect(ds.length).toBe(12);
    expect(Array.from(ds.labels ?? [])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    const batch = await ds.getBatch([0, 5]);
    expect(batch.x.shape).toEqual([2, 28, 28, 3]);
    const x = await batch.x.data();
    // image 5, first pixel byte = 50 -> 50/255*2-1
    expect(x[28 * 28 * 3]).toBeCloseTo((50 / 255) * 2 - 1, 6);
    expect(Array.from(await (batch.y as tf.Tensor).data())).toEqual([0, 5]);
    tf.dispose([batch.x, batch.y as tf.Tensor]);
    const val = await openDigits(root, 'val');
    expect(val.length).toBe(2);
  });

  it('converts RGB to grayscale and grayscale to RGB on request', async () => {
    const rgbRoot = path.join(tmp, 'rgb');
    await makeDigits(rgbRoot, 2, 3);
    const grey = await openDigits(rgbRoot, 'train', { channels: 1 });
    expect((await grey.getPixels(0)).length).toBe(28 * 28);
    const greyRoot = path.join(tmp, 'grey');
    await makeDigits(greyRoot, 2, 1);
    const rgb = await openDigits(greyRoot, 'train', { channels: 3 });
    const px = await rgb.getPixels(1);
    expect(px.length).toBe(28 * 28 * 3);
    expect([px[0], px[1], px[2]]).toEqual([10, 10, 10]);
  });

  it('names the folder when it is missing', async () => {
    await expect(openDigits(path.join(tmp, 'nope'), 'train')).rejects.toThrow(/nope: digits folder not found/);
  });

  it('names the CSV and line of a row whose image is missing', async () => {
    const root = path.join(tmp, 'missing-image');
    await makeDigits(root, 4);
    await fs.rm(path.join(root, 'data', '00002.png'));
    await expect(openDigits(root, 'train')).rejects.toThrow(/train\.csv:4: image "00002\.png" not found/);
  });

  it('names the file of a corrupt PNG and of a wrong-size PNG', async () => {
    const root = path.join(tmp, 'bad-png');
    await makeDigits(root, 4);
    await fs.writeFile(path.join(root, 'data', '00001.png'), Buffer.from('this is not a png'));
    await writePng(
      path.join(root, 'data', '00003.png'),
      solid(32, 32, 3, () => 7),
    );
    const ds = await openDigits(root, 'train');
    await expect(ds.getBatch([0, 1])).rejects.toThrow(/00001\.png: not a readable image/);
    await expect(ds.getBatch([3])).rejects.toThrow(/00003\.png: expected 28x28 pixels, got 32x32/);
  });

  it('preload: decodes every image, and names every file that cannot be used, each with its problem', async () => {
    const root = path.join(tmp, 'preload');
    await makeDigits(root, 30);
    await fs.writeFile(path.join(root, 'data', '00021.png'), Buffer.from('this is not a png'));
    await writePng(
      path.join(root, 'data', '00004.png'),
      solid(32, 32, 3, () => 7),
    );
    const good = await openDigits(root, 'train');
    const want = await good.getPixels(3);
    for (const cacheBytes of [undefined, 0]) {
      const ds = new ImageDataset(good.files, good.labels, { shape: good.shape, maxCacheBytes: cacheBytes });
      const err = (await ds.preload().catch((e: unknown) => e)) as ImageSetError;
      expect(err).toBeInstanceOf(ImageSetError);
      expect(err.message.split('\n')).toEqual([
        '2 of 30 images cannot be used (mend or remove them):',
        `  ${path.join(root, 'data', '00004.png')}: expected 28x28 pixels, got 32x32`,
        expect.stringMatching(new RegExp(`^  ${path.join(root, 'data', '00021.png')}: not a readable image`)),
      ]);
      expect(err.problems.map((p) => path.basename(p.file))).toEqual(['00004.png', '00021.png']);
      // The usable images were decoded and, in a cached set, kept: gone from disk, still read.
      expect(ds.cachesPixels).toBe(cacheBytes === undefined);
      await fs.rename(path.join(root, 'data', '00003.png'), path.join(root, 'data', 'moved.png'));
      if (ds.cachesPixels) expect(Buffer.from(await ds.getPixels(3)).equals(Buffer.from(want))).toBe(true);
      else await expect(ds.getPixels(3)).rejects.toThrow(/00003\.png: file not found/);
      await fs.rename(path.join(root, 'data', 'moved.png'), path.join(root, 'data', '00003.png'));
    }
  });

  it('preloadAll: one error for every set, listing the first 20 files and counting the rest', async () => {
    const root = path.join(tmp, 'preload-all');
    await makeDigits(root, 30);
    for (let i = 0; i < 25; i++) await fs.writeFile(path.join(root, 'data', `${String(i).padStart(5, '0')}.png`), Buffer.from('truncated'));
    const ds = await openDigits(root, 'train');
    const lines: string[] = [];
    const sets = [
      { name: 'first', ds: ds.subset([0, 1, 2, 25, 26]) },
      { name: 'second', ds: ds.subset(Array.from({ length: 25 }, (_, i) => i + 3).filter((i) => i !== 25 && i !== 26)) },
    ];
    const err = (await preloadAll(sets, (m) => lines.push(m)).catch((e: unknown) => e)) as ImageSetError;
    expect(err.problems).toHaveLength(25);
    const message = err.message.split('\n');
    expect(message[0]).toBe('25 of 28 images cannot be used (mend or remove them):');
    expect(message.slice(1, 21).map((l) => path.basename(l.split(':')[0] as string))).toEqual(Array.from({ length: 20 }, (_, i) => `${String(i).padStart(5, '0')}.png`));
    expect(message.slice(21)).toEqual(['  ... and 5 more']);
    expect(lines.map((l) => l.replace(/[\d.]+ s$/, 'T s'))).toEqual(['data: first: 5 images decoded in T s', 'data: second: 23 images decoded in T s']);
  });

  it('reports a CSV without the header with the file name', async () => {
    const root = path.join(tmp, 'no-header');
    await makeDigits(root, 2);
    await fs.writeFile(path.join(root, 'train.csv'), '00000.png,1\n');
    await expect(openDigits(root, 'train')).rejects.toThrow(/train\.csv:1: expected the header/);
  });

  it('reports a label outside 0-9 with file and line', async () => {
    const root = path.join(tmp, 'bad-label');
    await makeDigits(root, 2);
    await fs.writeFile(path.join(root, 'train.csv'), 'image_name,label\n00000.png,1\n00001.png,12\n');
    await expect(openDigits(root, 'train')).rejects.toThrow(/train\.csv:3: label 12 outside 0-9/);
  });
});

describe('batches', () => {
  it('visits every image once per epoch, in a seeded order, and drops the last partial batch on request', async () => {
    const root = path.join(tmp, 'batches');
    await makeDigits(root, 10);
    const ds = await openDigits(root, 'train');
    const epoch = async (seed: number, dropLast: boolean) => {
      const seen: number[][] = [];
      for await (const b of ds.batches({ batchSize: 4, rng: new Rng(seed), dropLast })) {
        seen.push(b.indices);
        tf.dispose([b.x, b.y as tf.Tensor]);
      }
      return seen;
    };
    const a = await epoch(1, false);
    expect(a.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(a.flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await epoch(1, false)).toEqual(a);
    expect(await epoch(2, false)).not.toEqual(a);
    expect((await epoch(1, true)).map((b) => b.length)).toEqual([4, 4]);
  });

  it('gives the same pixels with and without the pixel cache', async () => {
    const root = path.join(tmp, 'faces');
    await fs.mkdir(root, { recursive: true });
    for (let i = 0; i < 5; i++)
      await writePng(
        path.join(root, `${String(i).padStart(5, '0')}.png`),
        solid(64, 64, 3, (k) => k * 7 + i),
      );
    await fs.writeFile(path.join(root, 'notes.txt'), 'not an image');
    const cached = await openImageFolder(root);
    const uncached = await openImageFolder(root, { maxCacheBytes: 0 });
    expect(cached.cachesPixels).toBe(true);
    expect(uncached.cachesPixels).toBe(false);
    expect(cached.length).toBe(5);
    expect(await uncached.getPixelsBatch([4, 2])).toEqual(await cached.getPixelsBatch([4, 2]));
    expect((await openImageFolder(root, { limit: 2 })).length).toBe(2);
    await expect(listImages(path.join(tmp, 'batches'))).rejects.toThrow(/no \.png or \.jpg images/);
  });

  it('scales pixels to a range and normalises per channel', () => {
    const px = Uint8Array.from([0, 255, 51, 102]);
    expect(Array.from(pixelsToFloat(px, 1, { range: [0, 1] }))).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    const norm = pixelsToFloat(px, 2, { range: [0, 1], mean: [0.5, 0.5], std: [0.5, 0.25] });
    expect(norm[0]).toBeCloseTo(-1, 6);
    expect(norm[1]).toBeCloseTo(2, 6);
  });
});
