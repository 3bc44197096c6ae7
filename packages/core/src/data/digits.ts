/**
 * A digits folder in the homework layout: `<root>/data/*.png` plus `train.csv` / `val.csv`
 * (`image_name,label`). MNIST-M and SVHN are 28x28 RGB, USPS 28x28 grayscale: `channels`
 * converts on request (the DANN report runs everything in grayscale).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DataFileError, readLabelCsv } from './csv';
import { ImageDataset, type ImageDatasetOptions } from './dataset';

export type DigitSplit = 'train' | 'val';

export interface OpenDigitsOptions extends Partial<Omit<ImageDatasetOptions, 'shape'>> {
  /** 1 = grayscale, 3 = RGB (default 3). */
  channels?: 1 | 3;
  /** Image size (default 28). */
  size?: number;
}

export async function assertDirectory(dir: string, what: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch {
    throw new DataFileError(dir, undefined, `${what} not found`);
  }
  if (!stat.isDirectory()) throw new DataFileError(dir, undefined, `${what} is not a folder`);
}

export async function openDigits(root: string, split: DigitSplit, options: OpenDigitsOptions = {}): Promise<ImageDataset> {
  await assertDirectory(root, 'digits folder');
  const dataDir = path.join(root, 'data');
  await assertDirectory(dataDir, 'image folder data/ of the digits set');
  const csv = path.join(root, `${split}.csv`);
  const rows = await readLabelCsv(csv);
  const present = new Set(await fs.readdir(dataDir));
  for (const row of rows) {
    if (!present.has(row.imageName)) throw new DataFileError(csv, row.line, `image "${row.imageName}" not found in ${dataDir}`);
  }
  const size = options.size ?? 28;
  return new ImageDataset(
    rows.map((r) => path.join(dataDir, r.imageName)),
    Int32Array.from(rows, (r) => r.label),
    { ...options, shape: { height: size, width: size, channels: options.channels ?? 3 } },
  );
}

/** Every image file of a folder (sorted by name), unlabelled: DANN's target and predict inputs. */
export async function listImages(dir: string): Promise<string[]> {
  await assertDirectory(dir, 'image folder');
  const names = (await fs.readdir(dir)).filter((n) => /\.(png|jpe?g)$/i.test(n)).sort();
  if (names.length === 0) throw new DataFileError(dir, undefined, 'no .png or .jpg images in the folder');
  return names.map((n) => path.join(dir, n));
}
