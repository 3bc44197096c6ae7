import { defineCommand, flag, UsageError } from '@dlcv/core';
import { gradeDigits, parseDigitSetShape } from '../graders/digits';
import { digitsScore, strictDigitsScore } from '../homework';
import { emit, GRADER_FLAGS, saveResult, fileListLines, pct, perClassLines } from './output';

export const digitsCommand = defineCommand({
  name: 'digits',
  summary: 'Problem 2 grader: digit-classifier accuracy on <label>_<nnn>.png images, overall and per class.',
  positionals: [{ name: 'folder', help: 'the generated images, named <label>_<nnn>.png', path: true }],
  flags: {
    model: flag.path({ help: 'the classifier (ONNX)', metavar: 'FILE', shown: "this package's digit-classifier.onnx" }),
    'strict-model': flag.path({
      help: 'the strict grader (ONNX), scored beside --model',
      metavar: 'FILE',
      shown: "this package's digit-classifier-strict.onnx, unless --model is given",
    }),
    'skip-bad': flag.bool({ help: 'grade the readable images and list the others, instead of refusing' }),
    resize: flag.bool({ help: 'resize images that are not 28x28 instead of refusing them' }),
    expect: flag.string({ help: 'the set the homework writes: CLASSESxPER_CLASS; another is refused', default: '10x100', metavar: 'CxN' }),
    'allow-partial': flag.bool({ help: 'grade a set of another shape (missing classes or images), saying how it differs' }),
    ...GRADER_FLAGS,
  },
  needsEngine: false,
  async run({ flags, positionals: [folder] }) {
    let expect;
    try {
      expect = parseDigitSetShape(flags.expect);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const r = await gradeDigits(folder as string, {
      model: flags.model,
      strictModel: flags['strict-model'],
      skipBad: flags['skip-bad'],
      resize: flags.resize,
      expect,
      allowPartial: flags['allow-partial'],
    });
    await saveResult(flags.save, r, digitsScore(r), strictDigitsScore(r));
    emit(r, flags.json, () => [
      `digits: ${r.folder}`,
      `classifier: ${r.model.file} (${r.model.layout} input)`,
      `accuracy: ${pct(r.accuracy)} (${r.correct}/${r.total})`,
      ...(r.shortfall.length
        ? [`PARTIAL SET (--allow-partial): expected ${r.expected.classes} classes x ${r.expected.perClass} images, graded ${r.total}; ${r.shortfall.join(', ')}`]
        : []),
      'per class:',
      ...perClassLines(r.perClass),
      ...(r.strict
        ? [`strict accuracy: ${pct(r.strict.accuracy)} (${r.strict.correct}/${r.total}) with ${r.strict.model.file}`, 'per class:', ...perClassLines(r.strict.perClass)]
        : []),
      ...fileListLines('skipped images (not graded)', r.skipped),
      ...fileListLines('ignored entries (not images)', r.ignored),
    ]);
  },
});
