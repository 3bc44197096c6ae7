import { defineCommand, flag } from '@dlcv/core';
import { gradeDann } from '../graders/dann';
import { dannScore } from '../homework';
import { emit, GRADER_FLAGS, saveResult, pct, perClassLines } from './output';

export const dannCommand = defineCommand({
  name: 'dann',
  summary: 'Problem 3 grader: accuracy of a prediction CSV (image_name,label) against the truth CSV.',
  positionals: [
    { name: 'pred.csv', help: 'the predictions (image_name,label)', path: true },
    { name: 'truth.csv', help: 'the truth, e.g. val.csv', path: true },
  ],
  flags: { 'allow-missing': flag.bool({ help: 'count images without a prediction as wrong instead of refusing' }), ...GRADER_FLAGS },
  needsEngine: false,
  async run({ flags, positionals: [pred, truth] }) {
    const r = await gradeDann(pred as string, truth as string, { allowMissing: flags['allow-missing'] });
    await saveResult(flags.save, r, dannScore(r));
    emit(r, flags.json, () => [
      `dann: ${r.predictions} vs ${r.truth}`,
      `accuracy: ${pct(r.accuracy)} (${r.correct}/${r.total})`,
      'per class:',
      ...perClassLines(r.perClass),
      ...(r.missing.count ? [`missing predictions (counted wrong): ${r.missing.count}, e.g. ${r.missing.examples.join(', ')}`] : []),
      ...(r.extra.count ? [`predictions for images not in the truth file (ignored): ${r.extra.count}, e.g. ${r.extra.examples.join(', ')}`] : []),
    ]);
  },
});
