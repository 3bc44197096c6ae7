import { defineCommand, flag, progress, UsageError } from '@dlcv/core';
import { defaultRuntime, generateToFolder } from '../sampling';
import { GENERATOR_FLAGS, openGenerator, RUNTIME_FLAG } from './generator';

export const generateCommand = defineCommand({
  name: 'generate',
  summary: 'Write N generated 64x64 faces (0000.png, ...) into a folder; the same seed writes the same bytes.',
  flags: {
    out: flag.path({ help: 'folder the images go to (required)', metavar: 'DIR' }),
    count: flag.int({ help: 'images to write', default: 1000, min: 1 }),
    ...GENERATOR_FLAGS,
    batch: flag.int({ help: 'images per forward pass (does not change the images)', default: 100, min: 1 }),
    runtime: RUNTIME_FLAG,
  },
  async run({ flags, engine }) {
    if (flags.out === undefined) throw new UsageError('--out DIR is required (the folder the images go to)');
    const { count, seed, bn, batch } = flags;
    const runtime = flags.runtime ?? defaultRuntime(engine?.engine);
    const { g, gan, preciseStats, calibration } = await openGenerator(flags);
    const t0 = Date.now();
    const bar = progress({ total: count, label: 'generate' });
    await generateToFolder(g, flags.out, { count, seed, nz: gan.nz, batchSize: batch, bn, preciseStats, calibration, runtime, onBatch: (done) => bar.update(done) });
    bar.stop();
    console.log(
      `wrote ${count} images to ${flags.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s (seed ${seed}, BatchNorm statistics: ${bn}${bn === 'running' ? '' : preciseStats ? ' (stored)' : ` (computed from calibration seed ${calibration.seed ?? 0})`}, runtime ${runtime})`,
    );
  },
});
