import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeGrid, tensorToImages, writeGrid } from './grid';
import { readImage, type RawImage } from './io';

/** A solid tile whose every channel holds `v`. */
function solid(w: number, h: number, channels: 1 | 3 | 4, v: number | number[]): RawImage {
  const px = typeof v === 'number' ? Array(channels).fill(v) : v;
  const data = new Uint8Array(w * h * channels);
  for (let i = 0; i < w * h; i++) for (let k = 0; k < channels; k++) data[i * channels + k] = px[k] as number;
  return { width: w, height: h, channels, data };
}

function px(img: RawImage, x: number, y: number): number[] {
  const o = (y * img.width + x) * img.channels;
  return Array.from(img.data.subarray(o, o + img.channels));
}

describe('makeGrid', () => {
  it('places tiles row-major with padding around every tile (torchvision layout)', () => {
    // 5 tiles of 3x2 in 2 columns, padding 1: grid is 2 wide, 3 tall.
    const tiles = [10, 20, 30, 40, 50].map((v) => solid(3, 2, 1, v));
    const g = makeGrid(tiles, { cols: 2, padding: 1, padValue: 7 });
    expect([g.width, g.height, g.channels]).toEqual([2 * (3 + 1) + 1, 3 * (2 + 1) + 1, 1]);
    // Tile k starts at x = (k % 2) * 4 + 1, y = floor(k / 2) * 3 + 1.
    expect(px(g, 1, 1)).toEqual([10]);
    expect(px(g, 3, 2)).toEqual([10]); // last pixel of tile 0
    expect(px(g, 5, 1)).toEqual([20]);
    expect(px(g, 1, 4)).toEqual([30]);
    expect(px(g, 5, 5)).toEqual([40]);
    expect(px(g, 1, 7)).toEqual([50]);
    // Padding: border, gaps between tiles, and the empty last slot.
    for (const [x, y] of [
      [0, 0],
      [4, 1],
      [1, 3],
      [8, 9],
      [5, 7],
      [7, 8],
    ] as const)
      expect(px(g, x, y)).toEqual([7]);
  });

  it('copies pixel content (not just colour) into place', () => {
    const a: RawImage = { width: 2, height: 2, channels: 3, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) };
    const g = makeGrid([a, a], { cols: 2, padding: 2 });
    expect([g.width, g.height]).toEqual([2 * (2 + 2) + 2, 2 + 2 + 2]);
    expect(px(g, 2, 2)).toEqual([1, 2, 3]);
    expect(px(g, 3, 2)).toEqual([4, 5, 6]);
    expect(px(g, 2, 3)).toEqual([7, 8, 9]);
    expect(px(g, 6, 2)).toEqual([1, 2, 3]); // second tile starts at x = 4 + 2
    expect(px(g, 7, 3)).toEqual([10, 11, 12]);
    expect(px(g, 4, 2)).toEqual([0, 0, 0]);
    expect(px(g, 1, 1)).toEqual([0, 0, 0]);
  });

  it('narrows to the number of images when fewer than cols (as make_grid does), unless rows is fixed', () => {
    const tiles = [solid(2, 2, 1, 1), solid(2, 2, 1, 2)];
    expect(makeGrid(tiles, { cols: 8, padding: 0 }).width).toBe(4);
    const fixed = makeGrid(tiles, { cols: 3, rows: 2, padding: 1 });
    expect([fixed.width, fixed.height]).toEqual([3 * 3 + 1, 2 * 3 + 1]);
    expect(() => makeGrid([...tiles, ...tiles, ...tiles, ...tiles], { cols: 3, rows: 1 })).toThrow(/do not fit in 1x3/);
  });

  it('expands grey tiles to RGB when mixed with colour, and adds opaque alpha when any tile has it', () => {
    const g = makeGrid([solid(1, 1, 1, 9), solid(1, 1, 3, [1, 2, 3])], { cols: 2, padding: 1, padValue: 255 });
    expect(g.channels).toBe(3);
    expect(px(g, 1, 1)).toEqual([9, 9, 9]);
    expect(px(g, 3, 1)).toEqual([1, 2, 3]);
    expect(px(g, 0, 0)).toEqual([255, 255, 255]);
    const a = makeGrid([solid(1, 1, 1, 9), solid(1, 1, 4, [1, 2, 3, 4])], { cols: 1, padding: 1 });
    expect(a.channels).toBe(4);
    expect(px(a, 1, 1)).toEqual([9, 9, 9, 255]);
    expect(px(a, 1, 3)).toEqual([1, 2, 3, 4]);
    expect(px(a, 0, 0)).toEqual([0, 0, 0, 255]);
  });

  it('rejects mismatched sizes, bad buffers and bad options with clear errors', () => {
    expect(() => makeGrid([solid(2, 2, 3, 0), solid(2, 3, 3, 0)], { cols: 2 })).toThrow(/image 1 is 2x3, image 0 is 2x2/);
    expect(() => makeGrid([{ width: 2, height: 2, channels: 3, data: new Uint8Array(5) }], { cols: 1 })).toThrow(/needs 12 bytes, got 5/);
    expect(() => makeGrid([], { cols: 1 })).toThrow(/no images/);
    expect(() => makeGrid([solid(1, 1, 1, 0)], { cols: 0 })).toThrow(/cols/);
    expect(() => makeGrid([solid(1, 1, 1, 0)], { cols: 1, padValue: 256 })).toThrow(/padValue/);
    expect(() => makeGrid([solid(1, 1, 1, 0)], { cols: 1, padding: -1 })).toThrow(/padding/);
  });

  it('writeGrid writes a PNG that reads back identically', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'grid-'));
    try {
      const tiles = [solid(4, 3, 3, [255, 0, 0]), solid(4, 3, 3, [0, 255, 0]), solid(4, 3, 3, [0, 0, 255])];
      const file = path.join(dir, 'sub', 'grid.png');
      await writeGrid(file, tiles, { cols: 2 });
      const back = await readImage(file);
      const want = makeGrid(tiles, { cols: 2 });
      expect([back.width, back.height, back.channels]).toEqual([want.width, want.height, 3]);
      expect(Buffer.from(back.data).equals(Buffer.from(want.data))).toBe(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tensorToImages', () => {
  it('maps [-1, 1] to 0..255 with rounding and clipping, splitting NHWC', () => {
    const vals = Float32Array.from([-1, 0, 1, 2, -3, 0.5, /* image 2 */ 0.0039215, -0.0039215, NaN, 1, 1, 1]);
    const imgs = tensorToImages(vals, [2, 1, 2, 3]);
    expect(imgs).toHaveLength(2);
    expect(imgs[0]).toMatchObject({ width: 2, height: 1, channels: 3 });
    // save_image: floor(x * 255 + 0.5) after mapping to [0, 1]; 0 -> 127.5 -> 128.
    expect(Array.from((imgs[0] as RawImage).data)).toEqual([0, 128, 255, 255, 0, 191]);
    expect(Array.from((imgs[1] as RawImage).data)).toEqual([128, 127, 0, 255, 255, 255]);
  });

  it('honours another range and rejects shape mismatches', () => {
    const [img] = tensorToImages([0, 0.5, 1, 1.2], [1, 2, 2, 1], [0, 1]);
    expect(Array.from((img as RawImage).data)).toEqual([0, 128, 255, 255]);
    expect(() => tensorToImages(new Float32Array(11), [1, 2, 2, 3])).toThrow(/needs 12 values, got 11/);
    expect(() => tensorToImages(new Float32Array(4), [1, 2, 1, 2])).toThrow(/channels/);
    expect(() => tensorToImages(new Float32Array(4), [1, 2, 2, 1], [1, 1])).toThrow(/range/);
  });
});
