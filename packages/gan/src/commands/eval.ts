/**
 * `eval`: the homework's grading of problem 1 in one command. Generates the images (as
 * `generate`), then runs @dlcv/eval's FID grader against the validation faces and its
 * face-rate grader, and prints both against the assignment's baselines.
 */
import { defineCommand, flag, progress } from '@dlcv/core';
import { defaultRuntime, generateToFolder } from '../sampling';
import { GENERATOR_FLAGS, openGenerator, RUNTIME_FLAG } from './generator';

const FEATURES = ['inception', 'face-descriptor'] as const;

/** SPEC.md, problem 1: FID 30.00 simple / 27.00 strong; face rate 85% / 90%. */
export const BASELINES = { fid: { simple: 30, strong: 27 }, faceRate: { simple: 0.85, strong: 0.9 } } as const;

/** Which baselines a score passes; lower is better for FID, higher for the face rate. */
export function verdict(value: number, b: { simple: number; strong: number }, lowerIsBetter: boolean): string {
  const passes = (t: number) => (lowerIsBetter ? value <= t : value >= t);
  return passes(b.strong) ? 'passes the strong baseline' : passes(b.simple) ? 'passes the simple baseline only' : 'below the simple baseline';
}

export const evalCommand = defineCommand({
  name: 'eval',
  summary: 'Generate the 1000 images, then grade them: FID against the validation faces and the face rate, beside the baselines.',
  flags: {
    out: flag.required(flag.path({ help: 'folder for the generated images', metavar: 'DIR' })),
    reference: flag.required(flag.path({ help: 'the validation faces (hw2_data/face/val) or their saved statistics', metavar: 'DIR|stats.npz' })),
    ...GENERATOR_FLAGS,
    count: flag.int({ help: 'images to generate', default: 1000, min: 1 }),
    runtime: RUNTIME_FLAG,
    inception: flag.path({ help: 'the Inception ONNX file for FID', metavar: 'pt_inception.onnx' }),
    features: flag.choice(FEATURES, { help: 'feature network of the FID', shown: 'inception when its ONNX file is found, else face-descriptor' }),
    'skip-generate': flag.bool({ help: 'grade the images already in --out' }),
    'min-images': flag.int({ help: 'fewest images the graders accept (the homework grades 1000)', default: 1000, min: 2 }),
  },
  async run({ flags, engine }) {
    const outDir = flags.out;
    // Loaded on use: the graders bring ONNX Runtime and face-api, which other commands never need.
    const { gradeFaces, gradeFid } = require('@dlcv/eval') as typeof import('@dlcv/eval');

    // generate
    if (!flags['skip-generate']) {
      const { count, seed, bn } = flags;
      const { g, gan, preciseStats, calibration } = await openGenerator(flags);
      const bar = progress({ total: count, label: 'generate' });
      await generateToFolder(g, outDir, {
        count,
        seed,
        nz: gan.nz,
        bn,
        preciseStats,
        calibration,
        runtime: flags.runtime ?? defaultRuntime(engine?.engine),
        onBatch: (done) => bar.update(done),
      });
      bar.stop();
      console.log(`wrote ${count} images to ${outDir} (seed ${seed})`);
    }

    // FID
    const fid = await gradeFid(outDir, flags.reference, {
      features: flags.features,
      inception: flags.inception,
      minImages: flags['min-images'],
      log: (m) => process.stderr.write(`${m}\n`),
    });
    const fidLine = fid.network.isInception
      ? `${fid.label}: ${fid.value.toFixed(2)} (baselines: simple ${BASELINES.fid.simple.toFixed(2)}, strong ${BASELINES.fid.strong.toFixed(2)}): ${verdict(fid.value, BASELINES.fid, true)}`
      : `${fid.label}: ${fid.value.toFixed(2)}: not the Inception FID (no Inception ONNX file found), so not comparable with the baselines`;
    console.log(fidLine);

    // face rate
    const face = await gradeFaces(outDir, { minImages: flags['min-images'] });
    console.log(
      `face rate: ${(face.rate * 100).toFixed(2)}% (${face.exactlyOne}/${face.total}; baselines: simple ${BASELINES.faceRate.simple * 100}%, strong ${BASELINES.faceRate.strong * 100}%): ${verdict(face.rate, BASELINES.faceRate, false)}` +
        (face.detector.sameAsAssignment
          ? " [dlib's HOG detector, the assignment's]"
          : ` [${face.detector.name}, not the assignment's dlib HOG detector${face.detector.fallback ? `: ${face.detector.fallback}` : ''}]`),
    );
  },
});
