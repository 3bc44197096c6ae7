import { intFlag, tensorToImages, UsageError, writeGrid, type Command } from '@dlcv/core';
import { openSampling, outDirFrom, SAMPLING_FLAGS, SAMPLING_USAGE } from './sampling';

export const gridCommand: Command = {
  name: 'grid',
  summary: 'The report\'s 10x10 grid: rows are digits 0-9, columns are noises (column k shares the noise of every digit\'s k-th sample).',
  usage: `grid <out.png> ${SAMPLING_USAGE} [--cols 10]`,
  flags: { ...SAMPLING_FLAGS, out: { type: 'string' }, cols: { type: 'string' } },
  async run({ flags, positionals }) {
    const file = outDirFrom(flags, positionals, 'output PNG file');
    if (!file.toLowerCase().endsWith('.png')) throw new UsageError(`the grid is written as PNG: give a .png file name, got ${file}`);
    const cols = intFlag(flags.cols, 'cols', 10);
    if (cols < 1) throw new UsageError('--cols must be at least 1');
    const s = await openSampling(flags);
    const { nClasses, imageSize, inChannels } = s.pipe.unet;
    console.log(`sampling a ${nClasses}x${cols} grid: ${s.describe}`);
    const labels: number[] = [], noiseIds: number[] = [];
    for (let d = 0; d < nClasses; d++) for (let k = 0; k < cols; k++) labels.push(d), noiseIds.push(k);
    const images = [];
    try {
      for (let start = 0; start < labels.length; start += s.batch) {
        const end = Math.min(labels.length, start + s.batch);
        const x = await s.pipe.sample({ labels: labels.slice(start, end), noiseIds: noiseIds.slice(start, end), seed: s.seed, w: s.w });
        images.push(...tensorToImages(x, [end - start, imageSize, imageSize, inChannels]));
      }
    } finally {
      await s.close();
    }
    await writeGrid(file, images, { cols });
    console.log(`wrote ${file}`);
  },
};
