/**
 * Pixel conversions with no IO: uint8 HWC images to and from floats. Used by the image readers
 * and writers, the datasets, and the report page in the browser (through core's browser entry),
 * so a page turns model outputs into pixels exactly as `sample` does.
 */

export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** How uint8 pixels become floats: x/255 * (hi - lo) + lo, then (x - mean) / std per channel. */
export interface PixelScaling {
  range?: [number, number];
  mean?: number[];
  std?: number[];
}

/** Float pixels in [lo, hi] (HWC, any channel count) to uint8, rounding and clipping. */
export function floatToUint8(values: ArrayLike<number>, lo = -1, hi = 1): Uint8Array {
  const out = new Uint8Array(values.length);
  const scale = 255 / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(((values[i] as number) - lo) * scale);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/**
 * Splits a float NHWC batch into uint8 images, mapping `range` to 0..255 with rounding and
 * clipping as torchvision's `save_image` does (values outside the range saturate).
 */
export function tensorToImages(values: ArrayLike<number>, shape: readonly [number, number, number, number], range: readonly [number, number] = [-1, 1]): RawImage[] {
  const [n, h, w, c] = shape;
  for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new Error(`tensorToImages: bad shape [${shape.join(', ')}]`);
  if (c !== 1 && c !== 3 && c !== 4) throw new Error(`tensorToImages: channels (last dim) must be 1, 3 or 4, got ${c} in shape [${shape.join(', ')}]`);
  const size = h * w * c;
  if (values.length !== n * size) throw new Error(`tensorToImages: shape [${shape.join(', ')}] needs ${n * size} values, got ${values.length}`);
  const [lo, hi] = range;
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`tensorToImages: range must be finite with lo < hi, got [${lo}, ${hi}]`);
  const all = floatToUint8(values, lo, hi);
  const out: RawImage[] = [];
  for (let i = 0; i < n; i++) out.push({ width: w, height: h, channels: c, data: all.slice(i * size, (i + 1) * size) });
  return out;
}

export function pixelsToFloat(pixels: Uint8Array, channels: number, scaling: PixelScaling = {}): Float32Array {
  const [lo, hi] = scaling.range ?? [-1, 1];
  const mean = scaling.mean,
    std = scaling.std;
  if (mean && mean.length !== channels) throw new Error(`scaling.mean has ${mean.length} values for ${channels} channels`);
  if (std && std.length !== channels) throw new Error(`scaling.std has ${std.length} values for ${channels} channels`);
  const out = new Float32Array(pixels.length);
  const scale = (hi - lo) / 255;
  for (let i = 0; i < pixels.length; i++) {
    let v = (pixels[i] as number) * scale + lo;
    if (mean || std) {
      const c = i % channels;
      v = (v - (mean?.[c] ?? 0)) / (std?.[c] ?? 1);
    }
    out[i] = v;
  }
  return out;
}
