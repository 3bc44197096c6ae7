import type { Command } from '@dlcv/core';
import { gradeDigits } from '../graders/digits';
import { emit, fileListLines, JSON_FLAG, pct, perClassLines, positionals } from './report';

export const digitsCommand: Command = {
  name: 'digits',
  summary: 'Problem 2 grader: digit-classifier accuracy on <label>_<nnn>.png images, overall and per class.',
  usage: 'digits <folder> [--model classifier.onnx] [--skip-bad] [--resize] [--json]',
  flags: { model: { type: 'string' }, 'skip-bad': { type: 'boolean' }, resize: { type: 'boolean' }, ...JSON_FLAG },
  needsEngine: false,
  async run({ flags, positionals: args }) {
    const [folder] = positionals(args, ['<folder>'], this.usage);
    const r = await gradeDigits(folder as string, { model: flags.model as string | undefined, skipBad: !!flags['skip-bad'], resize: !!flags.resize });
    emit(r, flags.json, () => [
      `digits: ${r.folder}`,
      `classifier: ${r.model.file} (${r.model.layout} input)`,
      `accuracy: ${pct(r.accuracy)} (${r.correct}/${r.total})`,
      'per class:',
      ...perClassLines(r.perClass),
      ...fileListLines('skipped images (not graded)', r.skipped),
      ...fileListLines('ignored entries (not images)', r.ignored),
    ]);
  },
};
