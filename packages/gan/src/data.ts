/**
 * Training images for the GAN: the homework's face folder, or (as a demo when no faces are at
 * hand) a digits folder in the homework layout resized to 64x64, by default the embedded MNIST-M.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ensureEmbeddedDigits, openDigits, openImageFolder, UsageError, type ImageDataset } from '@dlcv/core';
import { IMAGE_SIZE } from './model';

export const NO_DATA_MESSAGE = [
  "no training images given. Problem 1 trains on faces: the homework's hw2_data/face/train folder",
  "(38,464 CelebA crops, 64x64 PNG; it comes with the assignment's hw2_data download, which this",
  'toolkit cannot fetch for you). Pass it as --data hw2_data/face/train.',
  'To try the trainer without faces, use --demo-digits: the embedded MNIST-M digits resized to 64x64.',
].join('\n');

export interface OpenedData {
  dataset: ImageDataset;
  /** For the log and the run's config. */
  description: string;
}

async function isDigitsFolder(dir: string): Promise<boolean> {
  try {
    await fs.access(path.join(dir, 'train.csv'));
    return (await fs.stat(path.join(dir, 'data'))).isDirectory();
  } catch {
    return false;
  }
}

export interface OpenTrainingDataOptions {
  /** A face folder (images directly inside) or a digits folder (data/ + train.csv). */
  data?: string;
  /** Use the embedded MNIST-M when `data` is not given. */
  demoDigits?: boolean;
  /** Only the first this many images. */
  limit?: number;
  /** Resize images of another size to 64x64 instead of rejecting them. */
  resize?: boolean;
  log?: (line: string) => void;
}

export async function openTrainingData(options: OpenTrainingDataOptions): Promise<OpenedData> {
  const { limit } = options;
  let dir = options.data;
  if (!dir) {
    if (!options.demoDigits) throw new UsageError(NO_DATA_MESSAGE);
    dir = await ensureEmbeddedDigits('mnistm', { log: options.log });
  }
  if (await isDigitsFolder(dir)) {
    // Digits are 28x28: resized (bilinear) to the 64x64 the architecture is built for.
    let ds = await openDigits(dir, 'train', { channels: 3, size: IMAGE_SIZE, resize: true });
    if (limit !== undefined) ds = ds.subset(Array.from({ length: Math.min(limit, ds.length) }, (_, i) => i));
    return { dataset: ds, description: `digits ${dir} (train.csv, resized to 64x64)` };
  }
  const ds = await openImageFolder(dir, { size: IMAGE_SIZE, channels: 3, resize: options.resize, limit });
  return { dataset: ds, description: `images ${dir}` };
}
