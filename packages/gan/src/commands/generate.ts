import { intFlag, progress, UsageError, type Command } from '@dlcv/core';
import { loadGenerator } from '../load';
import { userPath } from '../paths';
import { generateToFolder, parseBnStats, parseRuntime } from '../sampling';

export const DEFAULT_CHECKPOINT = 'runs/gan-B';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'Write N generated 64x64 faces (0000.png, ...) into a folder; the same seed writes the same bytes.',
  usage: `generate --out DIR [--count 1000] [--checkpoint ${DEFAULT_CHECKPOINT}] [--seed 0] [--bn precise|running] [--batch 100] [--runtime tfjs|onnx]`,
  flags: { out: { type: 'string' }, count: { type: 'string' }, checkpoint: { type: 'string' }, seed: { type: 'string' }, bn: { type: 'string' }, batch: { type: 'string' }, runtime: { type: 'string' } },
  async run({ flags, engine }) {
    if (typeof flags.out !== 'string' || flags.out === '') throw new UsageError('--out DIR is required (the folder the images go to)');
    const count = intFlag(flags.count, 'count', 1000);
    if (count < 1) throw new UsageError('--count must be at least 1');
    const seed = intFlag(flags.seed, 'seed', 0);
    const batchSize = intFlag(flags.batch, 'batch', 100);
    const bn = parseBnStats(flags.bn);
    const runtime = parseRuntime(flags.runtime, engine?.engine);
    if (batchSize < 1) throw new UsageError('--batch must be at least 1');
    const outDir = userPath(flags.out);
    const { g, config, step, dir, preciseStats } = await loadGenerator(userPath((flags.checkpoint as string | undefined) ?? DEFAULT_CHECKPOINT));
    console.log(`generator: model ${config.model} from ${dir} (step ${step})`);
    const t0 = Date.now();
    const bar = progress({ total: count, label: 'generate' });
    await generateToFolder(g, outDir, { count, seed, nz: config.gan.nz, batchSize, bn, preciseStats, runtime, onBatch: (done) => bar.update(done) });
    bar.stop();
    console.log(`wrote ${count} images to ${outDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s (seed ${seed}, BatchNorm statistics: ${bn}${bn === 'precise' && preciseStats ? ' (stored)' : ''}, runtime ${runtime})`);
  },
};
