import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, writePng } from '@dlcv/core';
import type { DcganConfig } from '../config';

/** `node -r` this to run TypeScript in a child process (the repository root's jest.ts-register.js). */
export const TS_REGISTER = path.join(__dirname, '..', '..', '..', '..', 'jest.ts-register.js');

/**
 * The real architecture at reduced widths: the same layers and code, a fraction of a second per
 * step on the pure-JS backend (whose conv filter gradient costs ~100 ns per multiply-add).
 */
export const TINY: DcganConfig = { nz: 8, ngf: 2, ndf: 2, channels: 3 };

/** Precise BatchNorm statistics from 2 x 8 noise vectors: enough to test, cheap on the cpu backend. */
export const SMALL_CALIBRATION = { batches: 2, batchSize: 8 };

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `dlcv-gan-${prefix}-`));
}

/** `n` random-pixel RGB PNGs (size x size) named 00000.png... in `dir`, as the face folder is. */
export async function writeImageFolder(dir: string, n: number, size = 64, seed = 0): Promise<void> {
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(size * size * 3);
    for (let k = 0; k < data.length; k++) data[k] = rng.int(256);
    await writePng(path.join(dir, `${String(i).padStart(5, '0')}.png`), { width: size, height: size, channels: 3, data });
  }
}

/** A digits folder in the homework layout: data/*.png (28x28 RGB) and train.csv. */
export async function writeDigitsFolder(dir: string, n: number): Promise<void> {
  await writeImageFolder(path.join(dir, 'data'), n, 28, 1);
  const rows = ['image_name,label', ...Array.from({ length: n }, (_, i) => `${String(i).padStart(5, '0')}.png,${i % 10}`)];
  await fs.writeFile(path.join(dir, 'train.csv'), rows.join('\n') + '\n');
}

export async function fileBytes(files: string[]): Promise<Buffer[]> {
  return Promise.all(files.map((f) => fs.readFile(f)));
}
