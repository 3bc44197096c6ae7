import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { encodeGif, writeGif } from './gif';
import type { RawImage } from './io';
import { Rng } from '../rng';

interface GifBlocks {
  width: number;
  height: number;
  frames: { delayCs: number; localPalette: boolean; width: number; height: number }[];
  loopCount: number | null;
}

/** Walks the GIF block structure (no LZW decoding; pixels are checked through sharp). */
function walkGif(b: Uint8Array): GifBlocks {
  const u16 = (o: number) => (b[o] as number) | ((b[o + 1] as number) << 8);
  expect(Buffer.from(b.subarray(0, 6)).toString('latin1')).toBe('GIF89a');
  const width = u16(6),
    height = u16(8);
  const flags = b[10] as number;
  let o = 13 + (flags & 0x80 ? 3 * (1 << ((flags & 7) + 1)) : 0);
  const skipSubBlocks = () => {
    while ((b[o] as number) !== 0) o += (b[o] as number) + 1;
    o += 1;
  };
  const frames: GifBlocks['frames'] = [];
  let loopCount: number | null = null;
  let delayCs = 0;
  for (;;) {
    const tag = b[o];
    if (tag === 0x3b) break;
    if (tag === 0x21) {
      const label = b[o + 1];
      if (label === 0xf9) delayCs = u16(o + 4);
      if (label === 0xff && Buffer.from(b.subarray(o + 3, o + 14)).toString('latin1') === 'NETSCAPE2.0') loopCount = u16(o + 16);
      o += 2;
      skipSubBlocks();
    } else if (tag === 0x2c) {
      const f = b[o + 9] as number;
      frames.push({ delayCs, localPalette: (f & 0x80) !== 0, width: u16(o + 5), height: u16(o + 7) });
      o += 10 + (f & 0x80 ? 3 * (1 << ((f & 7) + 1)) : 0);
      o += 1; // LZW minimum code size
      skipSubBlocks();
    } else {
      throw new Error(`unexpected GIF block 0x${String(tag?.toString(16))} at ${o}`);
    }
  }
  return { width, height, frames, loopCount };
}

/** Decodes all frames to RGB through libvips (sharp), an independent decoder. */
async function decodeFrames(bytes: Uint8Array): Promise<{ frames: Uint8Array[]; delay: number[] | undefined }> {
  const meta = await sharp(bytes, { animated: true }).metadata();
  const { data, info } = await sharp(bytes, { animated: true }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const pages = meta.pages ?? 1;
  const size = info.width * (info.pageHeight ?? info.height) * info.channels;
  expect(info.channels).toBe(3);
  return { frames: Array.from({ length: pages }, (_, i) => new Uint8Array(data.subarray(i * size, (i + 1) * size))), delay: meta.delay };
}

function gradientFrame(w: number, h: number, t: number): RawImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      data[o] = (x * 40 + t * 30) & 255;
      data[o + 1] = (y * 50) & 255;
      data[o + 2] = (t * 70) & 255;
    }
  }
  return { width: w, height: h, channels: 3, data };
}

function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('encodeGif', () => {
  const frames = [0, 1, 2].map((t) => gradientFrame(6, 5, t));

  it('writes one image per frame with the delays and loop asked for, and decodes to the same colours', async () => {
    const bytes = encodeGif(frames, { delayMs: 120, lastDelayMs: 1000 });
    const blocks = walkGif(bytes);
    expect([blocks.width, blocks.height]).toEqual([6, 5]);
    expect(blocks.frames.map((f) => f.delayCs)).toEqual([12, 12, 100]);
    expect(blocks.frames.every((f) => f.width === 6 && f.height === 5)).toBe(true);
    expect(blocks.loopCount).toBe(0); // forever
    // Per-frame palettes: the first is the global table, the others are local.
    expect(blocks.frames.map((f) => f.localPalette)).toEqual([false, true, true]);

    const decoded = await decodeFrames(bytes);
    expect(decoded.frames).toHaveLength(3);
    expect(decoded.delay).toEqual([120, 120, 1000]);
    // 30 distinct colours per frame fit the palette; rgb565 binning keeps them within a few levels.
    decoded.frames.forEach((f, i) => expect(maxAbsDiff(f, (frames[i] as RawImage).data)).toBeLessThanOrEqual(4));
  });

  it('is deterministic, and a global palette is written once', async () => {
    expect(Buffer.from(encodeGif(frames)).equals(Buffer.from(encodeGif(frames)))).toBe(true);
    const g = encodeGif(frames, { palette: 'global', loop: false });
    const blocks = walkGif(g);
    expect(blocks.frames.map((f) => f.localPalette)).toEqual([false, false, false]);
    expect(blocks.loopCount).toBeNull(); // no NETSCAPE block: play once
    const decoded = await decodeFrames(g);
    decoded.frames.forEach((f, i) => expect(maxAbsDiff(f, (frames[i] as RawImage).data)).toBeLessThanOrEqual(4));
  });

  it('quantises many-colour frames to something close, and takes grey frames', async () => {
    const rng = new Rng(3);
    const w = 32,
      h = 32;
    const noisy: RawImage = { width: w, height: h, channels: 3, data: Uint8Array.from({ length: w * h * 3 }, () => rng.int(256)) };
    const grey: RawImage = { width: w, height: h, channels: 1, data: Uint8Array.from({ length: w * h }, (_, i) => i % 256) };
    const decoded = await decodeFrames(encodeGif([noisy, grey]));
    let err = 0;
    const a = decoded.frames[0] as Uint8Array;
    for (let i = 0; i < a.length; i++) err += Math.abs((a[i] as number) - (noisy.data[i] as number));
    // Random RGB noise is the worst case for a 256-colour palette; gifenc lands near 7 levels.
    expect(err / a.length).toBeLessThan(16);
    const g = decoded.frames[1] as Uint8Array;
    for (let p = 0; p < w * h; p++) {
      expect(g[3 * p]).toBe(g[3 * p + 1]);
      expect(Math.abs((g[3 * p] as number) - (grey.data[p] as number))).toBeLessThanOrEqual(4);
    }
  });

  it('rejects frames of different sizes and bad options', () => {
    expect(() => encodeGif([gradientFrame(6, 5, 0), gradientFrame(5, 6, 0)])).toThrow(/frame 1 is 5x6, frame 0 is 6x5/);
    expect(() => encodeGif([])).toThrow(/no frames/);
    expect(() => encodeGif(frames, { delayMs: -1 })).toThrow(/delayMs/);
    expect(() => encodeGif(frames, { maxColors: 1 })).toThrow(/maxColors/);
  });

  it('writeGif writes the same bytes to a file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gif-'));
    try {
      const file = path.join(dir, 'a', 'progress.gif');
      await writeGif(file, frames, { delayMs: 100 });
      expect((await fs.readFile(file)).equals(Buffer.from(encodeGif(frames, { delayMs: 100 })))).toBe(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
