import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { intFlag, progress, tensorToImages, UsageError, writePng, type Command } from '@dlcv/core';
import { openSampling, outDirFrom, SAMPLING_FLAGS, SAMPLING_USAGE } from './sampling';

/** The graded names: `<digit>_<k:03>.png`, k = 1..perDigit. */
export function sampleFileName(digit: number, k: number): string {
  return `${digit}_${String(k).padStart(3, '0')}.png`;
}

export const sampleCommand: Command = {
  name: 'sample',
  summary: 'Write 100 generated images per digit, 0_001.png ... 9_100.png, into a folder (fixed seed: same command, same bytes).',
  usage: `sample <out_dir> ${SAMPLING_USAGE} [--per-digit 100]`,
  flags: { ...SAMPLING_FLAGS, out: { type: 'string' }, 'per-digit': { type: 'string' } },
  async run({ flags, positionals }) {
    const outDir = outDirFrom(flags, positionals, 'output folder');
    const perDigit = intFlag(flags['per-digit'], 'per-digit', 100);
    if (perDigit < 1 || perDigit > 999) throw new UsageError('--per-digit must be in 1..999');
    const s = await openSampling(flags);
    const { nClasses, imageSize, inChannels } = s.pipe.unet;
    console.log(`sampling ${nClasses} x ${perDigit} images: ${s.describe}`);
    await fs.mkdir(outDir, { recursive: true });

    // Image g is digit floor(g / perDigit), number k = g % perDigit + 1, with noise k - 1: every
    // digit's k-th image starts from the same noise (the grid's columns; the reverse strip is 0_001).
    const total = nClasses * perDigit;
    const stepsPerBatch = s.pipe.scheduler.timesteps.length;
    const bar = progress({ total: Math.ceil(total / s.batch) * stepsPerBatch, label: 'ddpm sample' });
    const t0 = Date.now();
    try {
      for (let start = 0; start < total; start += s.batch) {
        const ids = Array.from({ length: Math.min(s.batch, total - start) }, (_, i) => start + i);
        const x = await s.pipe.sample({
          labels: ids.map((g) => Math.floor(g / perDigit)),
          noiseIds: ids.map((g) => g % perDigit),
          seed: s.seed,
          w: s.w,
          onStep: () => bar.tick(),
        });
        const images = tensorToImages(x, [ids.length, imageSize, imageSize, inChannels]);
        await Promise.all(ids.map((g, i) => writePng(path.join(outDir, sampleFileName(Math.floor(g / perDigit), (g % perDigit) + 1)), images[i]!)));
      }
    } finally {
      bar.stop();
      await s.close();
    }
    console.log(`wrote ${total} images to ${outDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  },
};
