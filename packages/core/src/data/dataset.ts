/**
 * An image dataset held as uint8 HWC pixels and turned into float batches on demand.
 *
 * Pixels are decoded lazily, the first time an index is asked for, into one shared uint8 buffer
 * when the whole set fits `maxCacheBytes` (MNIST-M train: 105 MB; 38k faces: 472 MB), else per
 * batch and dropped afterwards, so a 40k-face folder never needs more than a batch in memory.
 * While the caller trains on one batch, the next is already being decoded on libuv's threads.
 * `preload` decodes (or, uncached, checks) every image up front and names every file that cannot
 * be used, so a training command stops before its first step instead of at the batch that reads it.
 */
import * as tf from '@tensorflow/tfjs';
import { ImageFileError, readImage, readImages, type RawImage } from '../image/io';
import { pixelsToFloat, type PixelScaling } from '../image/pixels';
import type { Rng } from '../rng';

export { pixelsToFloat, type PixelScaling } from '../image/pixels';

export interface ImageShape {
  height: number;
  width: number;
  channels: 1 | 3;
}

export interface ImageDatasetOptions {
  /** Pixel size every image must have (else an error naming the file); with `resize`, the size to resize to. */
  shape: ImageShape;
  /** Resize images of another size instead of rejecting them. */
  resize?: boolean;
  /** Keep decoded pixels when the whole set needs at most this many bytes (default 2 GiB). */
  maxCacheBytes?: number;
  /** Parallel decodes (default 8: sharp runs them on libuv's pool). */
  concurrency?: number;
}

/** The files of a set that cannot be used, every one found by `ImageDataset.preload`, each with its problem. */
export class ImageSetError extends Error {
  /** How many of the problems the message lists; the rest are counted. */
  static readonly LISTED = 20;

  constructor(
    readonly problems: readonly { file: string; reason: string }[],
    total: number,
  ) {
    const listed = problems.slice(0, ImageSetError.LISTED).map((p) => `  ${p.file}: ${p.reason}`);
    const more = problems.length - listed.length;
    super(`${problems.length} of ${total} images cannot be used (mend or remove them):\n${listed.join('\n')}${more > 0 ? `\n  ... and ${more} more` : ''}`);
    this.name = 'ImageSetError';
  }
}

export interface Batch {
  /** [n, h, w, c] float32 */
  x: tf.Tensor4D;
  /** [n] int32 labels, when the dataset has labels */
  y?: tf.Tensor1D;
  indices: number[];
}

export class ImageDataset {
  readonly shape: ImageShape;
  private readonly pixelsPerImage: number;
  private readonly cache: Uint8Array | undefined;
  private readonly cached: Uint8Array | undefined;
  private readonly concurrency: number;
  private readonly resize: boolean;

  constructor(
    /** Absolute paths, one per image. */
    readonly files: readonly string[],
    /** Labels aligned with files, or undefined for unlabelled sets (faces, DANN targets). */
    readonly labels: Int32Array | undefined,
    options: ImageDatasetOptions,
  ) {
    if (labels && labels.length !== files.length) throw new Error(`dataset: ${files.length} files but ${labels.length} labels`);
    this.shape = options.shape;
    this.pixelsPerImage = options.shape.height * options.shape.width * options.shape.channels;
    this.concurrency = options.concurrency ?? 8;
    this.resize = options.resize ?? false;
    const bytes = this.pixelsPerImage * files.length;
    if (bytes <= (options.maxCacheBytes ?? 2 * 1024 ** 3)) {
      this.cache = new Uint8Array(bytes);
      this.cached = new Uint8Array(files.length);
    }
  }

  get length(): number {
    return this.files.length;
  }

  get cachesPixels(): boolean {
    return this.cache !== undefined;
  }

  private async decode(index: number): Promise<Uint8Array> {
    const file = this.files[index];
    if (file === undefined) throw new RangeError(`dataset: index ${index} outside 0-${this.files.length - 1}`);
    const { height, width, channels } = this.shape;
    const img: RawImage = await readImage(file, {
      channels,
      expectSize: { width, height },
      resize: this.resize ? { width, height } : undefined,
    });
    return img.data;
  }

  /** uint8 HWC pixels of one image (a view into the cache when caching). */
  async getPixels(index: number): Promise<Uint8Array> {
    if (this.cache && this.cached) {
      const start = index * this.pixelsPerImage;
      if (!this.cached[index]) {
        this.cache.set(await this.decode(index), start);
        this.cached[index] = 1;
      }
      return this.cache.subarray(start, start + this.pixelsPerImage);
    }
    return this.decode(index);
  }

  /**
   * uint8 pixels of many images, concatenated in order, [n, h, w, c]. A file that cannot be used
   * fails the batch with an ImageFileError naming it; with several, the first in batch order.
   */
  async getPixelsBatch(indices: readonly number[]): Promise<Uint8Array> {
    const out = new Uint8Array(indices.length * this.pixelsPerImage);
    const missing: number[] = [];
    indices.forEach((index, k) => {
      if (index < 0 || index >= this.files.length || !Number.isInteger(index)) throw new RangeError(`dataset: index ${index} outside 0-${this.files.length - 1}`);
      if (this.cache && this.cached?.[index]) out.set(this.cache.subarray(index * this.pixelsPerImage, (index + 1) * this.pixelsPerImage), k * this.pixelsPerImage);
      else missing.push(k);
    });
    const read = await readImages(
      missing.map((k) => this.files[indices[k] as number] as string),
      this.readOptions(),
    );
    const bad = read.problems[0];
    if (bad) throw new ImageFileError(bad.file, bad.reason);
    read.images.forEach((img, j) => {
      const k = missing[j] as number;
      const pixels = (img as RawImage).data;
      out.set(pixels, k * this.pixelsPerImage);
      this.keep(indices[k] as number, pixels);
    });
    return out;
  }

  /** How readImages reads this set's files: its shape, resized or checked, `concurrency` at a time. */
  private readOptions(): Parameters<typeof readImages>[1] {
    const { height, width, channels } = this.shape;
    return { channels, expectSize: { width, height }, resize: this.resize ? { width, height } : undefined, concurrency: this.concurrency };
  }

  /** Stores an image's pixels in the cache, when the set is cached. */
  private keep(index: number, pixels: Uint8Array): void {
    if (!this.cache || !this.cached) return;
    this.cache.set(pixels, index * this.pixelsPerImage);
    this.cached[index] = 1;
  }

  /**
   * Decodes every image now (with a callback for progress): kept when the set is cached, else
   * only checked. Every file that cannot be used is found; if any, the error (ImageSetError)
   * names each with its problem, after the others have been decoded.
   */
  async preload(onProgress?: (done: number, total: number) => void): Promise<void> {
    const chunk = 256;
    const problems: { file: string; reason: string }[] = [];
    for (let start = 0; start < this.length; start += chunk) {
      const indices = Array.from({ length: Math.min(chunk, this.length - start) }, (_, i) => start + i).filter((i) => !this.cached?.[i]);
      const read = await readImages(
        indices.map((i) => this.files[i] as string),
        this.readOptions(),
      );
      read.images.forEach((img, j) => img && this.keep(indices[j] as number, img.data));
      problems.push(...read.problems.map(({ file, reason }) => ({ file, reason })));
      onProgress?.(Math.min(start + chunk, this.length), this.length);
    }
    if (problems.length) throw new ImageSetError(problems, this.length);
  }

  /** Float batch [n, h, w, c] scaled as asked (default [-1, 1]). */
  async getBatch(indices: readonly number[], scaling: PixelScaling = {}): Promise<Batch> {
    const pixels = await this.getPixelsBatch(indices);
    const { height, width, channels } = this.shape;
    const values = pixelsToFloat(pixels, channels, scaling);
    const x = tf.tensor4d(values, [indices.length, height, width, channels], 'float32');
    const y = this.labels
      ? tf.tensor1d(
          Int32Array.from(indices, (i) => this.labels?.[i] as number),
          'int32',
        )
      : undefined;
    return { x, y, indices: [...indices] };
  }

  /**
   * One epoch of batches; order from `rng` (no rng: file order). The next batch is decoded while
   * the caller works on the current one. The caller disposes each batch's tensors.
   */
  async *batches(options: { batchSize: number; rng?: Rng; dropLast?: boolean; scaling?: PixelScaling }): AsyncGenerator<Batch> {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`batches: batchSize must be a positive integer, got ${batchSize}`);
    const order = options.rng ? options.rng.permutation(this.length) : Array.from({ length: this.length }, (_, i) => i);
    const starts: number[] = [];
    for (let s = 0; s < order.length; s += batchSize) {
      if (options.dropLast && s + batchSize > order.length) break;
      starts.push(s);
    }
    const load = (s: number) => this.getBatch(order.slice(s, s + batchSize), options.scaling);
    let pending = starts.length ? load(starts[0] as number) : undefined;
    for (let b = 0; b < starts.length; b++) {
      const current = await (pending as Promise<Batch>);
      pending = b + 1 < starts.length ? load(starts[b + 1] as number) : undefined;
      yield current;
    }
  }

  /** A view of some indices (e.g. a held-out split) sharing nothing but the file list. */
  subset(indices: readonly number[]): ImageDataset {
    const files = indices.map((i) => {
      const f = this.files[i];
      if (f === undefined) throw new RangeError(`subset: index ${i} outside 0-${this.files.length - 1}`);
      return f;
    });
    const labels = this.labels ? Int32Array.from(indices, (i) => this.labels?.[i] as number) : undefined;
    return new ImageDataset(files, labels, { shape: this.shape, resize: this.resize, concurrency: this.concurrency });
  }
}

/**
 * Decodes every image of each set now (`ImageDataset.preload`), logging each set's time, so that
 * a file that cannot be used stops a command at its start: one ImageSetError, after every set,
 * names every such file of them all.
 */
export async function preloadAll(sets: readonly { name: string; ds: ImageDataset }[], log: (m: string) => void): Promise<void> {
  const problems: ImageSetError['problems'][number][] = [];
  for (const { name, ds } of sets) {
    const started = Date.now();
    try {
      await ds.preload();
    } catch (err) {
      if (!(err instanceof ImageSetError)) throw err;
      problems.push(...err.problems);
    }
    log(`data: ${name}: ${ds.length} images ${ds.cachesPixels ? 'decoded' : 'checked'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  if (problems.length)
    throw new ImageSetError(
      problems,
      sets.reduce((n, { ds }) => n + ds.length, 0),
    );
}
