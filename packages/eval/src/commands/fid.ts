import { defineCommand, flag } from '@dlcv/core';
import { FEATURE_NETWORKS } from '../networks/feature-networks';
import { gradeFid, saveFidStats } from '../graders/fid';
import { fidScore } from '../homework';
import { emit, GRADER_FLAGS, saveResult, fileListLines } from './output';

export const fidCommand = defineCommand({
  name: 'fid',
  summary: 'Problem 1 FID and KID between two folders (or a folder and saved statistics); --save-stats writes statistics.',
  positionals: [
    { name: 'generated', help: 'a folder of images (with --save-stats: the folder to summarise)', path: true },
    { name: 'reference', help: 'a folder, or statistics (.npz as pytorch-fid writes, or .json) (with --save-stats: the file to write)', path: true },
  ],
  moreUsage: ['fid --save-stats <folder> <out.npz|out.json> [same feature flags]'],
  flags: {
    features: flag.choice(FEATURE_NETWORKS, { help: 'feature network', shown: 'inception when its ONNX file is found, else digit-classifier' }),
    inception: flag.path({ help: 'pt_inception ONNX file (tools/eval-export-inception.py)', metavar: 'FILE' }),
    model: flag.path({ help: 'digit classifier ONNX file for --features digit-classifier', metavar: 'FILE' }),
    'skip-bad': flag.bool({ help: 'leave unreadable images out and list them, instead of refusing' }),
    'save-stats': flag.bool({ help: 'write the statistics of <generated> to <reference> instead of comparing' }),
    'min-images': flag.int({ help: 'fewest images a folder may hold (the homework generates 1000)', default: 1000, min: 2 }),
    seed: flag.int({ help: "seed of KID's subsets", default: 0, min: 0 }),
    'kid-subsets': flag.int({ help: 'KID subsets', default: 100, min: 1 }),
    'kid-subset-size': flag.int({ help: 'images per KID subset', default: 1000, min: 2 }),
    ...GRADER_FLAGS,
  },
  needsEngine: false,
  async run({ flags, positionals: [a, b] }) {
    const common = {
      features: flags.features,
      inception: flags.inception,
      digitModel: flags.model,
      skipBad: flags['skip-bad'],
      minImages: flags['min-images'],
      log: flags.json ? undefined : (m: string) => process.stderr.write(`${m}\n`),
    };
    if (flags['save-stats']) {
      const r = await saveFidStats(a as string, b as string, common);
      emit(r, flags.json, () => [`saved ${r.network} statistics of ${r.n} images (${r.dim}-d) to ${r.file}`, ...fileListLines('skipped images', r.report.skipped)]);
      return;
    }
    const r = await gradeFid(a as string, b as string, { ...common, seed: flags.seed, kidSubsets: flags['kid-subsets'], kidSubsetSize: flags['kid-subset-size'] });
    await saveResult(flags.save, r, fidScore(r));
    emit(r, flags.json, () => [
      `${r.label}: ${r.value.toFixed(4)}`,
      `features: ${r.network.description}`,
      ...(r.network.isInception ? [] : ['(no Inception ONNX file was used: this number is not comparable with pytorch-fid FID; see tools/eval-export-inception.py)']),
      r.kid ? `KID: ${r.kid.mean.toExponential(4)} +- ${r.kid.std.toExponential(2)} (${r.kid.subsets} subsets of ${r.kid.subsetSize})` : `KID: n/a (${r.kidNote})`,
      ...r.sets.map((s, i) => `set ${i + 1}: ${s.source} (${s.kind}, ${s.n} ${s.kind === 'folder' ? 'images' : 'vectors'})`),
      ...r.sets.flatMap((s) => fileListLines(`skipped in ${s.source}`, s.skipped)),
    ]);
  },
});
