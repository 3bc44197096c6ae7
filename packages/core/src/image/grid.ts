/**
 * Image grids as torchvision's `make_grid`/`save_image` draw them, so sample sheets from this
 * toolkit line up pixel for pixel with the ones the homework's reference code produces.
 */
import { writePng } from './io';
import type { RawImage } from './pixels';

export { tensorToImages } from './pixels';

export interface GridOptions {
  /** Tiles per row (torchvision's `nrow`). */
  cols: number;
  /** Fixed number of rows; missing tiles are left as padding. Default: as many as the images need. */
  rows?: number;
  /** Pixels of padding around every tile (also between tiles, not doubled). Default 2. */
  padding?: number;
  /** Padding colour, 0..255 in every channel (alpha, if any, is opaque). Default 0. */
  padValue?: number;
}

/**
 * Lays images out row-major on one canvas. Layout follows torchvision: with `rows` unset the grid
 * is `min(cols, n)` tiles wide and `ceil(n / cols)` tall; every tile sits `padding` pixels from
 * its neighbours and from the border. All tiles must share one size. Channel counts may differ:
 * grey tiles become RGB when any tile has colour, and everything gains opaque alpha when any
 * tile has alpha; an all-grey set stays one channel (smaller PNGs, same look).
 */
export function makeGrid(images: RawImage[], options: GridOptions): RawImage {
  const { cols, rows, padding = 2, padValue = 0 } = options;
  if (images.length === 0) throw new Error('makeGrid: no images');
  if (!Number.isInteger(cols) || cols < 1) throw new Error(`makeGrid: cols must be a positive integer, got ${cols}`);
  if (rows !== undefined && (!Number.isInteger(rows) || rows < 1)) throw new Error(`makeGrid: rows must be a positive integer, got ${rows}`);
  if (!Number.isInteger(padding) || padding < 0) throw new Error(`makeGrid: padding must be a non-negative integer, got ${padding}`);
  if (!Number.isInteger(padValue) || padValue < 0 || padValue > 255) throw new Error(`makeGrid: padValue must be an integer in 0..255, got ${padValue}`);

  const first = images[0] as RawImage;
  const { width: w, height: h } = first;
  images.forEach((img, i) => {
    if (img.width !== w || img.height !== h) {
      throw new Error(`makeGrid: image ${i} is ${img.width}x${img.height}, image 0 is ${w}x${h}; all tiles must be the same size`);
    }
    if (img.channels !== 1 && img.channels !== 3 && img.channels !== 4) throw new Error(`makeGrid: image ${i} has ${String(img.channels)} channels`);
    const need = img.width * img.height * img.channels;
    if (img.data.length !== need) throw new Error(`makeGrid: image ${i} is ${img.width}x${img.height}x${img.channels} and needs ${need} bytes, got ${img.data.length}`);
  });
  const c: 1 | 3 | 4 = images.some((img) => img.channels === 4) ? 4 : images.some((img) => img.channels === 3) ? 3 : 1;

  const gridCols = rows === undefined ? Math.min(cols, images.length) : cols;
  const gridRows = rows ?? Math.ceil(images.length / cols);
  if (images.length > gridCols * gridRows) throw new Error(`makeGrid: ${images.length} images do not fit in ${gridRows}x${gridCols} tiles`);

  const outW = gridCols * (w + padding) + padding;
  const outH = gridRows * (h + padding) + padding;
  const data = new Uint8Array(outW * outH * c);
  if (padValue !== 0) data.fill(padValue);
  if (c === 4) for (let i = 3; i < data.length; i += 4) data[i] = 255;

  images.forEach((img, k) => {
    const x0 = (k % gridCols) * (w + padding) + padding;
    const y0 = Math.floor(k / gridCols) * (h + padding) + padding;
    const src = img.data;
    const ic = img.channels;
    for (let y = 0; y < h; y++) {
      const srcRow = y * w * ic;
      const dstRow = ((y0 + y) * outW + x0) * c;
      if (ic === c) {
        data.set(src.subarray(srcRow, srcRow + w * c), dstRow);
        continue;
      }
      for (let x = 0; x < w; x++) {
        const s = srcRow + x * ic;
        const d = dstRow + x * c;
        if (ic === 1) {
          const v = src[s] as number;
          data[d] = v;
          data[d + 1] = v;
          data[d + 2] = v;
        } else {
          data[d] = src[s] as number;
          data[d + 1] = src[s + 1] as number;
          data[d + 2] = src[s + 2] as number;
        }
        // Only reached for c === 4 from a 1- or 3-channel tile: it is opaque.
        if (c === 4) data[d + 3] = 255;
      }
    }
  });
  return { width: outW, height: outH, channels: c, data };
}

/** `makeGrid` and write the result as a PNG (atomically). */
export async function writeGrid(file: string, images: RawImage[], options: GridOptions): Promise<void> {
  await writePng(file, makeGrid(images, options));
}
