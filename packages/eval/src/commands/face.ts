import { defineCommand, flag } from '@dlcv/core';
import { FACE_DETECTORS, gradeFaces } from '../graders/face';
import { faceScore } from '../homework';
import { emit, GRADER_FLAGS, saveResult, fileListLines, pct } from './output';

export const faceCommand = defineCommand({
  name: 'face',
  summary: "Problem 1 face-recognition rate: share of images with exactly one face (dlib's HOG detector, as the assignment; face-api where dlib is not built).",
  positionals: [{ name: 'folder', help: 'the generated faces', path: true }],
  flags: {
    detector: flag.choice(FACE_DETECTORS, { help: "the face detector: dlib (the assignment's) or face-api", shown: 'dlib when its addon is built, else face-api' }),
    'any-size': flag.bool({ help: 'accept images that are not 64x64' }),
    'min-images': flag.int({ help: 'fewest images the folder may hold (the homework generates 1000)', default: 1000, min: 1 }),
    ...GRADER_FLAGS,
  },
  // dlib runs in its addon; face-api on tfjs's wasm backend, chosen by the detector itself (see networks/face-api.ts).
  needsEngine: false,
  async run({ flags, positionals: [folder] }) {
    const r = await gradeFaces(folder as string, { anySize: flags['any-size'], minImages: flags['min-images'], detector: flags.detector });
    await saveResult(flags.save, r, faceScore(r));
    const d = r.detector;
    emit(r, flags.json, () => [
      `face: ${r.folder}`,
      `detector: ${d.name} ${d.version} (${d.settings})${d.sameAsAssignment ? ": the assignment's" : '; the assignment uses dlib HOG, so rates compare between runs of this detector'}`,
      ...(d.fallback ? [`  (${d.fallback})`] : []),
      `face recognition rate: ${pct(r.rate)} (${r.exactlyOne}/${r.total} with exactly one face; ${r.noFace} none, ${r.moreThanOne} several)`,
      ...fileListLines('failed to load (left out of the denominator)', r.failedToLoad),
      ...fileListLines('ignored entries (not images)', r.ignored),
    ]);
  },
});
