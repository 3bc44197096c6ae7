import { defineCommand, flag } from '@dlcv/core';
import { gradeFaces } from '../graders/face';
import { faceScore } from '../homework';
import { emit, GRADER_FLAGS, saveResult, fileListLines, pct } from './output';

export const faceCommand = defineCommand({
  name: 'face',
  summary: 'Problem 1 face-recognition rate: share of images with exactly one face (face-api TinyFaceDetector, not dlib).',
  positionals: [{ name: 'folder', help: 'the generated faces', path: true }],
  flags: {
    'any-size': flag.bool({ help: 'accept images that are not 64x64' }),
    'min-images': flag.int({ help: 'fewest images the folder may hold (the homework generates 1000)', default: 1000, min: 1 }),
    ...GRADER_FLAGS,
  },
  // Runs on tfjs's wasm backend, chosen by the detector itself (see networks/face-api.ts).
  needsEngine: false,
  async run({ flags, positionals: [folder] }) {
    const r = await gradeFaces(folder as string, { anySize: flags['any-size'], minImages: flags['min-images'] });
    await saveResult(flags.save, r, faceScore(r));
    emit(r, flags.json, () => [
      `face: ${r.folder}`,
      `detector: ${r.detector.name} ${r.detector.version} (input ${r.detector.inputSize}, score >= ${r.detector.scoreThreshold}, tfjs ${r.detector.backend}); the assignment uses dlib HOG, so rates compare between runs of this grader`,
      `face recognition rate: ${pct(r.rate)} (${r.exactlyOne}/${r.total} with exactly one face; ${r.noFace} none, ${r.moreThanOne} several)`,
      ...fileListLines('failed to load (left out of the denominator)', r.failedToLoad),
      ...fileListLines('ignored entries (not images)', r.ignored),
    ]);
  },
});
