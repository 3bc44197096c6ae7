/**
 * PNG/JPEG reading and PNG writing through sharp. Images travel as `RawImage`: uint8 pixels,
 * row-major HWC, which is what the datasets store and what grids and GIFs consume.
 */
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { writeFileAtomic } from '../files';
import { describeDamage, tidyDecoderMessage } from './damage';
import type { RawImage } from './pixels';
import { resizeBilinear } from './resize';

// Decoding is the bottleneck of loaders; one libvips thread per core is what we have.
sharp.concurrency(1);
// Determinism over speed: no cross-call cache of decoded images.
sharp.cache(false);

export type { RawImage } from './pixels';
export { floatToUint8 } from './pixels';

export class ImageFileError extends Error {
  constructor(
    public readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ImageFileError';
  }
}

export interface ReadImageOptions {
  /** Convert to this many channels (1 = grayscale by luminance, 3 = RGB). Default: keep 1 or 3, drop alpha. */
  channels?: 1 | 3;
  /** Expected size; a different size is an error naming the file (unless `resize` is given). */
  expectSize?: { width: number; height: number };
  /** Resize to this size (PIL's BILINEAR, exactly: see image/resize.ts). */
  resize?: { width: number; height: number };
}

/** Reads an image file into uint8 HWC pixels; errors name the file and the problem. */
export async function readImage(file: string, options: ReadImageOptions = {}): Promise<RawImage> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageFileError(file, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`);
  }
  return decodeImage(buf, file, options);
}

/**
 * Decodes an in-memory image; `name` is used in errors. A PNG or JPEG the decoder refuses is
 * described from its own bytes where they show the damage (image/damage.ts), since libvips'
 * message for the same file varies from call to call.
 */
export async function decodeImage(buf: Buffer | Uint8Array, name: string, options: ReadImageOptions = {}): Promise<RawImage> {
  let pipeline: sharp.Sharp;
  let meta: sharp.Metadata;
  try {
    pipeline = sharp(buf, { failOn: 'error' });
    meta = await pipeline.metadata();
  } catch (err) {
    throw new ImageFileError(name, `not a readable image (${describeDamage(buf) ?? tidyDecoderMessage((err as Error).message)})`);
  }
  const { width, height } = meta;
  if (!width || !height) throw new ImageFileError(name, 'image has no size');
  if (options.expectSize && !options.resize && (width !== options.expectSize.width || height !== options.expectSize.height)) {
    throw new ImageFileError(name, `expected ${options.expectSize.width}x${options.expectSize.height} pixels, got ${width}x${height}`);
  }
  const srcChannels = meta.channels ?? 3;
  const hasColour = srcChannels >= 3 && meta.space !== 'b-w';
  const want: 1 | 3 = options.channels ?? (hasColour ? 3 : 1);
  try {
    let p = pipeline.removeAlpha();
    p = want === 1 ? p.toColourspace('b-w') : p.toColourspace('srgb');
    const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
    let img: RawImage;
    if (info.channels === want) img = { width: info.width, height: info.height, channels: want, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    // sharp keeps a single band when asked for sRGB from grey input: expand by hand.
    else if (info.channels === 1 && want === 3) img = { width: info.width, height: info.height, channels: 3, data: greyToRgb(data) };
    else throw new ImageFileError(name, `decoded ${info.channels} channels, wanted ${want}`);
    return options.resize ? resizeBilinear(img, options.resize.width, options.resize.height) : img;
  } catch (err) {
    if (err instanceof ImageFileError) throw err;
    throw new ImageFileError(name, `corrupt image data (${describeDamage(buf) ?? tidyDecoderMessage((err as Error).message)})`);
  }
}

export interface ImageReadResult {
  /** One entry per file, undefined where it failed. */
  images: (RawImage | undefined)[];
  /** The files that failed, in the order given, each with its reason (readImage's message without the file name). */
  problems: { index: number; file: string; reason: string }[];
}

/**
 * Reads many images with `concurrency` decodes at a time. The files that failed are read again
 * one by one, so a failure that came from the decodes beside it is not reported, and the
 * problems come in file order.
 */
export async function readImages(files: readonly string[], options: ReadImageOptions & { concurrency?: number } = {}): Promise<ImageReadResult> {
  const images: (RawImage | undefined)[] = new Array(files.length);
  const failed: number[] = [];
  let next = 0;
  const worker = async () => {
    for (let k = next++; k < files.length; k = next++) {
      try {
        images[k] = await readImage(files[k] as string, options);
      } catch {
        failed.push(k);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, files.length) }, worker));
  const problems: ImageReadResult['problems'] = [];
  for (const index of failed.sort((a, b) => a - b)) {
    const file = files[index] as string;
    try {
      images[index] = await readImage(file, options);
    } catch (err) {
      const msg = (err as Error).message;
      problems.push({ index, file, reason: msg.startsWith(`${file}: `) ? msg.slice(file.length + 2) : msg });
    }
  }
  return { images, problems };
}

function greyToRgb(grey: Uint8Array): Uint8Array {
  const out = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = grey[i] as number;
  return out;
}

/**
 * Encodes to PNG bytes: 1 channel as an 8-bit grey PNG (as the homework's USPS files), 3 as
 * RGB, 4 as RGBA. Deterministic: fixed compression settings, no metadata.
 */
export async function encodePng(img: RawImage): Promise<Buffer> {
  checkRaw(img);
  const pipeline = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  });
  // Without this sharp widens one raw band to sRGB and writes an RGB file.
  return (img.channels === 1 ? pipeline.toColourspace('b-w') : pipeline).png({ compressionLevel: 6, adaptiveFiltering: false, palette: false }).toBuffer();
}

/** Writes a PNG atomically (temp file + rename), creating parent folders. */
export async function writePng(file: string, img: RawImage): Promise<void> {
  await writeFileAtomic(file, await encodePng(img));
}

/** Resizes uint8 HWC pixels with PIL's BILINEAR (kept async for callers written against sharp). */
export async function resizeImage(img: RawImage, width: number, height: number): Promise<RawImage> {
  checkRaw(img);
  return resizeBilinear(img, width, height);
}

function checkRaw(img: RawImage): void {
  const need = img.width * img.height * img.channels;
  if (img.data.length !== need) throw new Error(`raw image: ${img.width}x${img.height}x${img.channels} needs ${need} bytes, got ${img.data.length}`);
}
