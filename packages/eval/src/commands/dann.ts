import type { Command } from '@dlcv/core';
import { gradeDann } from '../graders/dann';
import { emit, JSON_FLAG, pct, perClassLines, positionals } from './report';

export const dannCommand: Command = {
  name: 'dann',
  summary: 'Problem 3 grader: accuracy of a prediction CSV (image_name,label) against the truth CSV.',
  usage: 'dann <pred.csv> <truth.csv> [--allow-missing] [--json]',
  flags: { 'allow-missing': { type: 'boolean' }, ...JSON_FLAG },
  needsEngine: false,
  async run({ flags, positionals: args }) {
    const [pred, truth] = positionals(args, ['<pred.csv>', '<truth.csv>'], this.usage);
    const r = await gradeDann(pred as string, truth as string, { allowMissing: !!flags['allow-missing'] });
    emit(r, flags.json, () => [
      `dann: ${r.predictions} vs ${r.truth}`,
      `accuracy: ${pct(r.accuracy)} (${r.correct}/${r.total})`,
      'per class:',
      ...perClassLines(r.perClass),
      ...(r.missing.count ? [`missing predictions (counted wrong): ${r.missing.count}, e.g. ${r.missing.examples.join(', ')}`] : []),
      ...(r.extra.count ? [`predictions for images not in the truth file (ignored): ${r.extra.count}, e.g. ${r.extra.examples.join(', ')}`] : []),
    ]);
  },
};
