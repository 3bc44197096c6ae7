/**
 * A sample sheet of a digit folder in the homework layout: one row per digit 0..9, the
 * first `perDigit` images of that digit (by file name, train.csv and val.csv together),
 * shown as RGB on a dark grey ground.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../files';
import { readImage, writePng, type RawImage } from '../image/io';
import { CSV_HEADER } from './common';

export interface SampleSheetOptions {
  /** Images per row (default 10). */
  perDigit?: number;
  /** Nearest-neighbour upscale of each image (default 2). */
  scale?: number;
  /** Pixels between images (default 2). */
  gap?: number;
}

export interface WriteSampleSheetOptions extends SampleSheetOptions {
  /** 256-colour palette PNG (lossy, much smaller; for docs). Default false: exact pixels. */
  palette?: boolean;
}

/** Rows of train.csv and val.csv (header checked). */
export async function readDigitCsvRows(dir: string): Promise<Array<{ name: string; label: number }>> {
  const rows: Array<{ name: string; label: number }> = [];
  for (const csv of ['train.csv', 'val.csv']) {
    const lines = (await fs.readFile(path.join(dir, csv), 'utf8')).split(/\r?\n/).filter((l) => l.length > 0);
    if (lines[0] !== CSV_HEADER) throw new Error(`${path.join(dir, csv)}: header must be "${CSV_HEADER}"`);
    for (const line of lines.slice(1)) {
      const [name, label] = line.split(',');
      rows.push({ name: name as string, label: Number(label) });
    }
  }
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Composes the sheet (RGB). */
export async function makeSampleSheet(dir: string, options: SampleSheetOptions = {}): Promise<RawImage> {
  const perDigit = options.perDigit ?? 10;
  const scale = options.scale ?? 2;
  const gap = options.gap ?? 2;
  const rows = await readDigitCsvRows(dir);
  const picked: string[][] = Array.from({ length: 10 }, () => []);
  for (const r of rows) {
    const row = picked[r.label];
    if (row && row.length < perDigit) row.push(r.name);
  }
  const first = rows[0];
  if (!first) throw new Error(`${dir}: no images`);
  const probe = await readImage(path.join(dir, 'data', first.name), { channels: 3 });
  const cw = probe.width * scale,
    ch = probe.height * scale;
  const W = gap + perDigit * (cw + gap),
    H = gap + 10 * (ch + gap);
  const data = new Uint8Array(W * H * 3).fill(40);
  for (let d = 0; d < 10; d++) {
    const names = picked[d] as string[];
    for (let j = 0; j < names.length; j++) {
      const img = await readImage(path.join(dir, 'data', names[j] as string), { channels: 3, expectSize: { width: probe.width, height: probe.height } });
      const ox = gap + j * (cw + gap),
        oy = gap + d * (ch + gap);
      for (let y = 0; y < ch; y++) {
        for (let x = 0; x < cw; x++) {
          const s = (Math.floor(y / scale) * img.width + Math.floor(x / scale)) * 3;
          const t = ((oy + y) * W + ox + x) * 3;
          data[t] = img.data[s] as number;
          data[t + 1] = img.data[s + 1] as number;
          data[t + 2] = img.data[s + 2] as number;
        }
      }
    }
  }
  return { width: W, height: H, channels: 3, data };
}

/** Writes the sheet of `dir` to `outFile` (PNG). */
export async function writeSampleSheet(dir: string, outFile: string, options: WriteSampleSheetOptions = {}): Promise<void> {
  const sheet = await makeSampleSheet(dir, options);
  if (!options.palette) return writePng(outFile, sheet);
  const png = await sharp(Buffer.from(sheet.data.buffer, sheet.data.byteOffset, sheet.data.length), { raw: { width: sheet.width, height: sheet.height, channels: 3 } })
    .png({ palette: true, colours: 256, dither: 0, compressionLevel: 9, effort: 10 })
    .toBuffer();
  await writeFileAtomic(outFile, png);
}
