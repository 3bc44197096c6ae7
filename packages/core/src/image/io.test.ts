import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { ImageDataset } from '../data/dataset';
import { decodeImage, encodePng, floatToUint8, ImageFileError, readImage, readImages, resizeImage, writePng } from './io';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'dlcv-io-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('image IO', () => {
  it('round-trips grey images as 1-channel PNGs and RGB as 3-channel PNGs, byte-stable', async () => {
    const grey = { width: 3, height: 2, channels: 1 as const, data: Uint8Array.from([0, 50, 100, 150, 200, 250]) };
    const png = await encodePng(grey);
    expect((await sharp(png).metadata()).channels).toBe(1);
    expect(Array.from((await decodeImage(png, 'grey.png')).data)).toEqual(Array.from(grey.data));
    expect(await encodePng(grey)).toEqual(png);

    const rgb = { width: 2, height: 1, channels: 3 as const, data: Uint8Array.from([255, 0, 0, 0, 128, 255]) };
    const file = path.join(tmp, 'sub', 'rgb.png');
    await writePng(file, rgb);
    const back = await readImage(file);
    expect(back.channels).toBe(3);
    expect(Array.from(back.data)).toEqual(Array.from(rgb.data));
    // A grey file asked for as RGB repeats the grey value in each channel.
    await writePng(path.join(tmp, 'g.png'), grey);
    expect(Array.from((await readImage(path.join(tmp, 'g.png'), { channels: 3 })).data.slice(3, 6))).toEqual([50, 50, 50]);
  });

  it('resizes as PIL BILINEAR does (hand-computed 2 -> 4 enlargement)', async () => {
    const row = { width: 2, height: 1, channels: 1 as const, data: Uint8Array.from([0, 100]) };
    const out = await resizeImage(row, 4, 1);
    expect(out.channels).toBe(1);
    expect(Array.from(out.data)).toEqual([0, 25, 75, 100]);
  });

  it('names the file of missing, corrupt and wrong-size images', async () => {
    await expect(readImage(path.join(tmp, 'none.png'))).rejects.toThrow(/none\.png: file not found/);
    await fs.writeFile(path.join(tmp, 'bad.png'), 'garbage');
    await expect(readImage(path.join(tmp, 'bad.png'))).rejects.toThrow(/bad\.png: not a readable image/);
    // A real PNG cut short: the header parses, the pixel data does not.
    const good = await encodePng({ width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3).map((_, i) => (i * 37) & 255) });
    await fs.writeFile(path.join(tmp, 'cut.png'), good.subarray(0, Math.floor(good.length / 2)));
    await expect(readImage(path.join(tmp, 'cut.png'))).rejects.toThrow(/cut\.png: /);
    await expect(readImage(path.join(tmp, 'sub', 'rgb.png'), { expectSize: { width: 28, height: 28 } })).rejects.toThrow(/rgb\.png: expected 28x28 pixels, got 2x1/);
  });

  it('maps floats in [-1, 1] to bytes with rounding and clipping', () => {
    expect(Array.from(floatToUint8([-1, 1, 0, -2, 2]))).toEqual([0, 255, 128, 0, 255]);
  });
});

describe('reading many images', () => {
  it('reports each unreadable file with the same reason as a lone read, in file order, however decodes interleave', async () => {
    const dir = path.join(tmp, 'many');
    await fs.mkdir(dir);
    const img = { width: 28, height: 28, channels: 1 as const, data: Uint8Array.from({ length: 784 }, (_, i) => i % 251) };
    const files: string[] = [];
    for (let i = 0; i < 40; i++) {
      files.push(path.join(dir, `${String(i).padStart(3, '0')}.png`));
      await writePng(files[i] as string, img);
    }
    // Truncated files: libvips' own message for these varies with the decodes beside them.
    for (const i of [30, 5, 17]) {
      const bytes = await fs.readFile(files[i] as string);
      await fs.writeFile(files[i] as string, bytes.subarray(0, bytes.length - 40));
    }
    const lone = await readImage(files[5] as string).then(
      () => 'read',
      (e: Error) => e.message.slice((files[5] as string).length + 2),
    );
    expect(lone).toMatch(/^corrupt image data \(PNG file ends inside its IDAT chunk: \d+ of \d+ data bytes and no CRC\)$/);
    const { images, problems } = await readImages(files, { channels: 1, concurrency: 8 });
    expect(problems).toEqual([5, 17, 30].map((index) => ({ index, file: files[index], reason: lone })));
    expect(images.filter((x) => x !== undefined)).toHaveLength(37);
    expect(Buffer.from((images[0] as { data: Uint8Array }).data).equals(Buffer.from(img.data))).toBe(true);

    // A dataset batch fails on the first bad file of the batch, named, with the same reason.
    const ds = new ImageDataset(files, undefined, { shape: { height: 28, width: 28, channels: 1 } });
    const err = (await ds.getPixelsBatch([39, 30, 2, 17, 5]).catch((e: unknown) => e)) as ImageFileError;
    expect(err).toBeInstanceOf(ImageFileError);
    expect(err.message).toBe(`${files[30]}: ${lone}`);
  });
});
