import * as path from 'node:path';
import { defineCommand, flag, InterruptedError, makeDir, progress, tensorToImages, watchStopSignals, writePng } from '@dlcv/core';
import { openSampling, outputArgument, outputFrom, SAMPLING_FLAGS } from './sampling';

const OUT = outputArgument('out_dir', 'folder for the images', 'DIR');

/** The graded names: `<digit>_<k:03>.png`, k = 1..perDigit. */
export function sampleFileName(digit: number, k: number): string {
  return `${digit}_${String(k).padStart(3, '0')}.png`;
}

export const sampleCommand = defineCommand({
  name: 'sample',
  summary: 'Write 100 generated images per digit, 0_001.png ... 9_100.png, into a folder (fixed seed: same command, same bytes).',
  positionals: [OUT.positional],
  flags: { ...SAMPLING_FLAGS, out: OUT.flag, 'per-digit': flag.int({ help: 'images per digit', default: 100, min: 1, max: 999 }) },
  async run({ flags, positionals, engine }) {
    const outDir = outputFrom(flags.out, positionals, 'output folder');
    const perDigit = flags['per-digit'];
    // the flags and the model first: a command refused writes nothing, not even its folder
    const s = await openSampling(flags, engine);
    const { nClasses, imageSize, inChannels } = s.pipe.unet;
    console.log(`sampling ${nClasses} x ${perDigit} images: ${s.describe}`);

    // Image g is digit floor(g / perDigit), number k = g % perDigit + 1, with noise k - 1: every
    // digit's k-th image starts from the same noise (the grid's columns; the reverse strip is 0_001).
    const total = nClasses * perDigit;
    const stepsPerBatch = s.pipe.scheduler.timesteps.length;
    const bar = progress({ total: Math.ceil(total / s.batch) * stepsPerBatch, label: 'ddpm sample' });
    const t0 = Date.now();
    const stop = watchStopSignals('sampling', 'batch');
    try {
      await makeDir(outDir);
      for (let start = 0; start < total; start += s.batch) {
        const ids = Array.from({ length: Math.min(s.batch, total - start) }, (_, i) => start + i);
        const x = await s.sample({
          labels: ids.map((g) => Math.floor(g / perDigit)),
          noiseIds: ids.map((g) => g % perDigit),
          seed: s.seed,
          w: s.w,
          onProgress: () => bar.tick(),
        });
        const images = tensorToImages(x, [ids.length, imageSize, imageSize, inChannels]);
        await Promise.all(ids.map((g, i) => writePng(path.join(outDir, sampleFileName(Math.floor(g / perDigit), (g % perDigit) + 1)), images[i]!)));
        // A signal stops sampling between batches: every file written so far is complete.
        if (stop.signal && start + ids.length < total) {
          throw new InterruptedError(
            stop.signal,
            `interrupted by ${stop.signal} after ${start + ids.length} of ${total} images in ${outDir}; run the same command again to write them all`,
          );
        }
      }
    } finally {
      stop.release();
      bar.stop();
      await s.close();
    }
    console.log(`wrote ${total} images to ${outDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  },
});
