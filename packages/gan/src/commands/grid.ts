import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { defineCommand, flag, readImage, UsageError, writeGrid, type RawImage } from '@dlcv/core';
import { generateImages } from '../sampling';
import { GENERATOR_FLAGS, openGenerator } from './generator';

/** The first `count` PNGs of a folder in name order: generation order for generate's 0000.png, 0001.png, ... */
async function folderImages(dir: string, count: number): Promise<RawImage[]> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => /\.png$/i.test(n)).sort();
  } catch {
    throw new UsageError(`${dir}: image folder not found`);
  }
  if (names.length < count) throw new UsageError(`${dir}: has ${names.length} PNG images, the grid needs ${count}`);
  return Promise.all(names.slice(0, count).map((n) => readImage(path.join(dir, n), { channels: 3 })));
}

export const gridCommand = defineCommand({
  name: 'grid',
  summary: "The first 32 or 64 images as one grid PNG (the report's figure): from a model or checkpoint, or from a folder of generated images.",
  flags: {
    ...GENERATOR_FLAGS,
    images: flag.path({ help: 'instead of a generator: a folder of generated images (the first in name order)', metavar: 'DIR' }),
    count: flag.int({ help: 'images in the grid', default: 64, min: 1 }),
    cols: flag.int({ help: 'images per row', default: 8, min: 1 }),
    out: flag.path({ help: 'the grid PNG to write', metavar: 'FILE', default: 'grid.png' }),
  },
  async run({ flags }) {
    const { count, cols, out } = flags;
    let images: RawImage[];
    if (flags.images !== undefined) {
      if (flags.model !== undefined || flags.checkpoint !== undefined) throw new UsageError('give --model/--checkpoint or --images, not both');
      images = await folderImages(flags.images, count);
    } else {
      const { g, gan, preciseStats, calibration } = await openGenerator(flags);
      images = await generateImages(g, { count, seed: flags.seed, nz: gan.nz, bn: flags.bn, preciseStats, calibration });
    }
    await writeGrid(out, images, { cols });
    console.log(`wrote ${out} (${count} images, ${cols} per row)`);
  },
});
