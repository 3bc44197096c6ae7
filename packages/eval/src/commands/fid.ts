import { intFlag, UsageError, type Command } from '@dlcv/core';
import { FEATURE_NETWORKS, type FeatureNetworkName } from '../networks/feature-networks';
import { gradeFid, saveFidStats } from '../graders/fid';
import { emit, fileListLines, JSON_FLAG, positionals } from './report';

function featuresFlag(v: string | boolean | undefined): FeatureNetworkName | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(FEATURE_NETWORKS as readonly string[]).includes(v)) throw new UsageError(`--features must be one of ${FEATURE_NETWORKS.join(', ')}, got "${String(v)}"`);
  return v as FeatureNetworkName;
}

export const fidCommand: Command = {
  name: 'fid',
  summary: 'Problem 1 FID and KID between two folders (or a folder and saved statistics); --save-stats writes statistics.',
  usage:
    'fid <generated> <reference folder|stats.npz|stats.json> [--features inception|digit-classifier|face-descriptor] [--inception pt_inception.onnx] ' +
    '[--model digit-classifier.onnx] [--skip-bad] [--seed 0] [--kid-subsets 100] [--kid-subset-size 1000] [--json]\n' +
    '       fid --save-stats <folder> <out.npz|out.json> [same feature flags]',
  flags: {
    features: { type: 'string' },
    inception: { type: 'string' },
    model: { type: 'string' },
    'skip-bad': { type: 'boolean' },
    'save-stats': { type: 'boolean' },
    seed: { type: 'string' },
    'kid-subsets': { type: 'string' },
    'kid-subset-size': { type: 'string' },
    ...JSON_FLAG,
  },
  needsEngine: false,
  async run({ flags, positionals: args }) {
    const common = {
      features: featuresFlag(flags.features),
      inception: flags.inception as string | undefined,
      digitModel: flags.model as string | undefined,
      skipBad: !!flags['skip-bad'],
      log: flags.json ? undefined : (m: string) => process.stderr.write(`${m}\n`),
    };
    if (flags['save-stats']) {
      const [folder, out] = positionals(args, ['<folder>', '<out.npz|out.json>'], this.usage);
      const r = await saveFidStats(folder as string, out as string, common);
      emit(r, flags.json, () => [`saved ${r.network} statistics of ${r.n} images (${r.dim}-d) to ${r.file}`, ...fileListLines('skipped images', r.report.skipped)]);
      return;
    }
    const [a, b] = positionals(args, ['<generated>', '<reference>'], this.usage);
    const r = await gradeFid(a as string, b as string, {
      ...common,
      seed: intFlag(flags.seed, 'seed', 0),
      kidSubsets: intFlag(flags['kid-subsets'], 'kid-subsets', 100),
      kidSubsetSize: intFlag(flags['kid-subset-size'], 'kid-subset-size', 1000),
    });
    emit(r, flags.json, () => [
      `${r.label}: ${r.value.toFixed(4)}`,
      `features: ${r.network.description}`,
      ...(r.network.isInception ? [] : ['(no Inception ONNX file was used: this number is not comparable with pytorch-fid FID; see tools/eval-export-inception.py)']),
      r.kid ? `KID: ${r.kid.mean.toExponential(4)} +- ${r.kid.std.toExponential(2)} (${r.kid.subsets} subsets of ${r.kid.subsetSize})` : `KID: n/a (${r.kidNote})`,
      ...r.sets.map((s, i) => `set ${i + 1}: ${s.source} (${s.kind}, ${s.n} ${s.kind === 'folder' ? 'images' : 'vectors'})`),
      ...r.sets.flatMap((s) => fileListLines(`skipped in ${s.source}`, s.skipped)),
    ]);
  },
};
