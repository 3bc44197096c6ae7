/**
 * `eval`: the homework's grading of problem 1 in one command. Generates the images (as
 * `generate`), then runs @dlcv/eval's FID grader against the validation faces and its
 * face-rate grader, and prints both against the assignment's baselines.
 */
import { intFlag, progress, UsageError, type Command } from '@dlcv/core';
import type { FeatureNetworkName } from '@dlcv/eval';
import { loadGenerator } from '../load';
import { userPath } from '../paths';
import { generateToFolder, parseBnStats, parseRuntime } from '../sampling';
import { DEFAULT_CHECKPOINT } from './generate';

/** SPEC.md, problem 1: FID 30.00 simple / 27.00 strong; face rate 85% / 90%. */
export const BASELINES = { fid: { simple: 30, strong: 27 }, faceRate: { simple: 0.85, strong: 0.9 } } as const;

/** Which baselines a score passes; lower is better for FID, higher for the face rate. */
export function verdict(value: number, b: { simple: number; strong: number }, lowerIsBetter: boolean): string {
  const passes = (t: number) => (lowerIsBetter ? value <= t : value >= t);
  return passes(b.strong) ? 'passes the strong baseline' : passes(b.simple) ? 'passes the simple baseline only' : 'below the simple baseline';
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Generate the 1000 images, then grade them: FID against the validation faces and the face rate, beside the baselines.',
  usage:
    `eval --out DIR --reference hw2_data/face/val|stats.npz [--checkpoint ${DEFAULT_CHECKPOINT}] [--count 1000] [--seed 0] [--bn precise|running] [--runtime tfjs|onnx] ` +
    '[--inception pt_inception.onnx] [--features inception|face-descriptor] [--skip-generate]',
  flags: {
    out: { type: 'string' },
    reference: { type: 'string' },
    checkpoint: { type: 'string' },
    count: { type: 'string' },
    seed: { type: 'string' },
    bn: { type: 'string' },
    runtime: { type: 'string' },
    inception: { type: 'string' },
    features: { type: 'string' },
    'skip-generate': { type: 'boolean' },
  },
  async run({ flags, engine }) {
    if (typeof flags.out !== 'string' || flags.out === '') throw new UsageError('--out DIR is required (the generated images go there)');
    if (typeof flags.reference !== 'string') throw new UsageError('--reference is required: the validation faces (hw2_data/face/val) or their saved statistics');
    const features = flags.features as FeatureNetworkName | undefined;
    if (features !== undefined && features !== 'inception' && features !== 'face-descriptor') throw new UsageError(`--features must be inception or face-descriptor, got "${String(features)}"`);
    const outDir = userPath(flags.out);
    // Loaded on use: the graders bring ONNX Runtime and face-api, which other commands never need.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { gradeFaces, gradeFid } = require('@dlcv/eval') as typeof import('@dlcv/eval');

    // generate
    if (!flags['skip-generate']) {
      const count = intFlag(flags.count, 'count', 1000);
      const seed = intFlag(flags.seed, 'seed', 0);
      const bn = parseBnStats(flags.bn);
      const { g, config, dir, preciseStats } = await loadGenerator(userPath((flags.checkpoint as string | undefined) ?? DEFAULT_CHECKPOINT));
      console.log(`generator: model ${config.model} from ${dir}`);
      const bar = progress({ total: count, label: 'generate' });
      await generateToFolder(g, outDir, { count, seed, nz: config.gan.nz, bn, preciseStats, runtime: parseRuntime(flags.runtime, engine?.engine), onBatch: (done) => bar.update(done) });
      bar.stop();
      console.log(`wrote ${count} images to ${outDir} (seed ${seed})`);
    }

    // FID
    const fid = await gradeFid(outDir, userPath(flags.reference), {
      features,
      inception: typeof flags.inception === 'string' ? userPath(flags.inception) : undefined,
      log: (m) => process.stderr.write(`${m}\n`),
    });
    const fidLine = fid.network.isInception
      ? `${fid.label}: ${fid.value.toFixed(2)} (baselines: simple ${BASELINES.fid.simple.toFixed(2)}, strong ${BASELINES.fid.strong.toFixed(2)}): ${verdict(fid.value, BASELINES.fid, true)}`
      : `${fid.label}: ${fid.value.toFixed(2)}: not the Inception FID (no Inception ONNX file found), so not comparable with the baselines`;
    console.log(fidLine);

    // face rate
    const face = await gradeFaces(outDir);
    console.log(
      `face rate: ${(face.rate * 100).toFixed(2)}% (${face.exactlyOne}/${face.total}; baselines: simple ${BASELINES.faceRate.simple * 100}%, strong ${BASELINES.faceRate.strong * 100}%): ${verdict(face.rate, BASELINES.faceRate, false)}` +
        ` [${face.detector.name}, not the assignment's dlib HOG detector]`,
    );
  },
};
