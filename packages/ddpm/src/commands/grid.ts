import { defineCommand, flag, tensorToImages, UsageError, writeGrid, type RawImage } from '@dlcv/core';
import { openSampling, outputArgument, outputFrom, SAMPLING_FLAGS, type SamplingSetup } from './sampling';

const OUT = outputArgument('out.png', 'the grid PNG to write', 'FILE');

export const gridCommand = defineCommand({
  name: 'grid',
  summary: "The report's 10x10 grid: rows are digits 0-9, columns are noises (column k shares the noise of every digit's k-th sample).",
  positionals: [OUT.positional],
  flags: { ...SAMPLING_FLAGS, out: OUT.flag, cols: flag.int({ help: 'columns: noises per digit', default: 10, min: 1 }) },
  async run({ flags, positionals, engine }) {
    const file = outputFrom(flags.out, positionals, 'output PNG file');
    if (!file.toLowerCase().endsWith('.png')) throw new UsageError(`the grid is written as PNG: give a .png file name, got ${file}`);
    const { cols } = flags;
    const s = await openSampling(flags, engine);
    console.log(`sampling a ${s.pipe.unet.nClasses}x${cols} grid: ${s.describe}`);
    let images: RawImage[];
    try {
      images = await gridImages(s, cols);
    } finally {
      await s.close();
    }
    await writeGrid(file, images, { cols });
    console.log(`wrote ${file}`);
  },
});

/** The grid's images, row by row: digit d's row holds noises 0..cols-1 (the first `cols` images of each digit of `sample`). */
export async function gridImages(s: SamplingSetup, cols: number): Promise<RawImage[]> {
  const { nClasses, imageSize, inChannels } = s.pipe.unet;
  const labels: number[] = [],
    noiseIds: number[] = [];
  for (let d = 0; d < nClasses; d++) {
    for (let k = 0; k < cols; k++) {
      labels.push(d);
      noiseIds.push(k);
    }
  }
  const images: RawImage[] = [];
  for (let start = 0; start < labels.length; start += s.batch) {
    const end = Math.min(labels.length, start + s.batch);
    const x = await s.sample({ labels: labels.slice(start, end), noiseIds: noiseIds.slice(start, end), seed: s.seed, w: s.w });
    images.push(...tensorToImages(x, [end - start, imageSize, imageSize, inChannels]));
  }
  return images;
}
