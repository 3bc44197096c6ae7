/**
 * What every grader does first: list a folder's images, say which files were left out and why,
 * and load images in batches while recording the ones that fail. Nothing is dropped silently:
 * each grader result carries the `ignored` and `skipped` lists. Also the input error every
 * grader and reference network throws, and where the package's shipped networks live.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readImages, type RawImage } from '@dlcv/core';

export const IMAGE_EXTENSIONS = /\.(png|jpe?g)$/i;

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface FolderListing {
  folder: string;
  /** Image files (by extension), sorted by name, absolute paths. */
  images: string[];
  /** Other entries of the folder (non-image files, subfolders), not graded. */
  ignored: SkippedFile[];
}

export class GradeInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GradeInputError';
  }
}

export async function listFolder(folder: string): Promise<FolderListing> {
  const dir = path.resolve(folder);
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GradeInputError(`${dir}: ${code === 'ENOENT' ? 'folder not found' : code === 'ENOTDIR' ? 'not a folder' : `cannot read (${code ?? String(err)})`}`);
  }
  const images: string[] = [];
  const ignored: SkippedFile[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) ignored.push({ file: full, reason: 'a folder' });
    else if (!IMAGE_EXTENSIONS.test(e.name)) ignored.push({ file: full, reason: 'not a .png/.jpg file' });
    else images.push(full);
  }
  if (images.length === 0) {
    throw new GradeInputError(
      `${dir}: no .png or .jpg images${ignored.length ? ` (${ignored.length} other entr${ignored.length === 1 ? 'y' : 'ies'}, e.g. ${path.basename((ignored[0] as SkippedFile).file)})` : ' (empty folder)'}`,
    );
  }
  return { folder: dir, images, ignored };
}

export interface LoadOptions {
  channels: 1 | 3;
  /** Required size; others are a problem (see `resize`). */
  size?: { width: number; height: number };
  /** Resize other sizes to `size` (bilinear) instead of treating them as problems. */
  resize?: boolean;
  /** Parallel decodes. */
  concurrency?: number;
}

export interface LoadedImage {
  file: string;
  index: number;
  image: RawImage;
}

/**
 * Loads images in order, in chunks of `chunk`; unreadable or wrong-size ones go to `problems`
 * (with the reason, in file order, worded as everywhere in the project: core's readImages)
 * instead of the chunk. The caller decides whether problems are fatal.
 */
export async function* loadImages(files: readonly string[], options: LoadOptions, chunk: number, problems: SkippedFile[]): AsyncGenerator<LoadedImage[]> {
  for (let start = 0; start < files.length; start += chunk) {
    const slice = files.slice(start, start + chunk);
    const read = await readImages(slice, {
      channels: options.channels,
      expectSize: options.size,
      resize: options.resize ? options.size : undefined,
      concurrency: options.concurrency,
    });
    for (const p of read.problems) problems.push({ file: p.file, reason: p.reason });
    const loaded = read.images.flatMap((image, k) => (image ? [{ file: slice[k] as string, index: start + k, image }] : []));
    if (loaded.length) yield loaded;
  }
}

/** The homework's output sets: 1000 generated faces, 1000 generated digits (10 classes x 100). */
export const HOMEWORK_SET_SIZE = 1000;

/**
 * Refuses a set smaller than `min` (the count a grader's number is meant for): a score of a
 * few images left by a failed run must not pass for the set's score.
 */
export function requireImages(folder: string, found: number, min: number, why: string): void {
  if (found < min)
    throw new GradeInputError(`${folder}: ${found} image${found === 1 ? '' : 's'}, fewer than the ${min} expected (${why}); pass --min-images ${found} to grade them anyway`);
}

export function byFile(a: SkippedFile, b: SkippedFile): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

/** "3 files: a.png (reason), b.png (reason), ... and 1 more" for error messages. */
export function describeFiles(list: SkippedFile[], max = 3): string {
  const shown = [...list]
    .sort(byFile)
    .slice(0, max)
    .map((s) => `${path.basename(s.file)} (${s.reason})`);
  const more = list.length > max ? `, and ${list.length - max} more` : '';
  return `${list.length} file${list.length === 1 ? '' : 's'}: ${shown.join(', ')}${more}`;
}

/** Where this package's shipped files live (assets/ beside src/ and dist/). */
export function assetsDir(): string {
  return path.join(__dirname, '..', 'assets');
}
