import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { intFlag, readImage, UsageError, writeGrid, type Command, type RawImage } from '@dlcv/core';
import { loadGenerator } from '../load';
import { userPath } from '../paths';
import { generateImages, parseBnStats } from '../sampling';
import { DEFAULT_CHECKPOINT } from './generate';

export const gridCommand: Command = {
  name: 'grid',
  summary: "The first 32 or 64 images as one grid PNG (the report's figure): from a checkpoint, or from a folder of generated images.",
  usage: `grid [--checkpoint ${DEFAULT_CHECKPOINT} | --images DIR] [--count 64] [--cols 8] [--seed 0] [--bn precise|running] [--out grid.png]`,
  flags: { checkpoint: { type: 'string' }, images: { type: 'string' }, count: { type: 'string' }, cols: { type: 'string' }, seed: { type: 'string' }, bn: { type: 'string' }, out: { type: 'string' } },
  async run({ flags }) {
    const count = intFlag(flags.count, 'count', 64);
    const cols = intFlag(flags.cols, 'cols', 8);
    if (count < 1 || cols < 1) throw new UsageError('--count and --cols must be at least 1');
    const out = userPath((flags.out as string | undefined) ?? 'grid.png');
    let images: RawImage[];
    if (typeof flags.images === 'string') {
      if (flags.checkpoint !== undefined) throw new UsageError('give --checkpoint or --images, not both');
      const dir = userPath(flags.images);
      let names: string[];
      try {
        names = (await fs.readdir(dir)).filter((n) => /\.png$/i.test(n)).sort();
      } catch {
        throw new UsageError(`${dir}: image folder not found`);
      }
      if (names.length < count) throw new UsageError(`${dir}: has ${names.length} PNG images, the grid needs ${count}`);
      // Name order is generation order for generate's 0000.png, 0001.png, ...
      images = await Promise.all(names.slice(0, count).map((n) => readImage(path.join(dir, n), { channels: 3 })));
    } else {
      const { g, config, dir, preciseStats } = await loadGenerator(userPath((flags.checkpoint as string | undefined) ?? DEFAULT_CHECKPOINT));
      console.log(`generator: model ${config.model} from ${dir}`);
      images = await generateImages(g, { count, seed: intFlag(flags.seed, 'seed', 0), nz: config.gan.nz, bn: parseBnStats(flags.bn), preciseStats });
    }
    await writeGrid(out, images, { cols });
    console.log(`wrote ${out} (${count} images, ${cols} per row)`);
  },
};
