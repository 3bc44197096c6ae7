/**
 * The homework's digit classifier as the graders run it (SPEC.md: Conv 3->6 k5, ReLU, MaxPool 2,
 * Conv 6->16 k5, ReLU, MaxPool 2, FC 256->128->64->10, inputs (x/255 - 0.5) / 0.5): an ONNX file,
 * by default the one this package trains and ships (assets/digit-classifier.onnx, NHWC input),
 * or a user's own, e.g. the course's Classifier.pth exported by tools/eval-export-classifier.py
 * (NCHW input). The digits grader reads its classes, the digit FD its penultimate features.
 */
import * as path from 'node:path';
import { OnnxModel, type ImageDataset, type RawImage } from '@dlcv/core';
import { assetsDir, GradeInputError } from '../files';

export const DIGIT_SIZE = 28;
export const DIGIT_CLASSES = 10;

export function defaultDigitModel(): string {
  return path.join(assetsDir(), 'digit-classifier.onnx');
}

/** The strict grader's network (train/train-classifier.ts with --arch strict). */
export function defaultStrictDigitModel(): string {
  return path.join(assetsDir(), 'digit-classifier-strict.onnx');
}

export interface DigitClassifier {
  model: OnnxModel;
  file: string;
  layout: 'NHWC' | 'NCHW';
  input: string;
  logits: string;
  /** Penultimate features (64-d after ReLU in the homework's network), when the file has them. */
  features?: string;
}

export async function loadDigitClassifier(file = defaultDigitModel()): Promise<DigitClassifier> {
  let model: OnnxModel;
  try {
    model = await OnnxModel.load(file);
  } catch (err) {
    const hint = file === defaultDigitModel() ? ' (the default reference network: run `dlcv-eval train-classifier`, or pass --model)' : '';
    throw new GradeInputError(`${(err as Error).message}${hint}`);
  }
  const input = model.inputs[0];
  if (model.inputs.length !== 1 || !input || input.shape.length !== 4) {
    throw new GradeInputError(
      `${file}: a digit classifier takes one image batch [N, 28, 28, 3] or [N, 3, 28, 28]; this file's inputs: ${model.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join('; ')}`,
    );
  }
  const layout = input.shape[3] === 3 ? 'NHWC' : input.shape[1] === 3 ? 'NCHW' : undefined;
  if (!layout) throw new GradeInputError(`${file}: input ${input.name} [${input.shape.join(', ')}] has no axis of 3 colour channels`);
  const logits = model.outputs.find((o) => o.name === 'logits') ?? model.outputs.find((o) => o.shape[o.shape.length - 1] === DIGIT_CLASSES);
  if (!logits) throw new GradeInputError(`${file}: no output of ${DIGIT_CLASSES} class scores (outputs: ${model.outputNames.join(', ')})`);
  const features = model.outputs.find((o) => o.name === 'features')?.name;
  return { model, file, layout, input: input.name, logits: logits.name, features };
}

/** The homework's normalisation, into the model's layout. */
export function digitBatch(images: RawImage[], layout: 'NHWC' | 'NCHW'): Float32Array {
  const hw = DIGIT_SIZE * DIGIT_SIZE;
  const out = new Float32Array(images.length * hw * 3);
  images.forEach((img, n) => {
    if (img.width !== DIGIT_SIZE || img.height !== DIGIT_SIZE || img.channels !== 3)
      throw new Error(`digitBatch: image ${n} is ${img.width}x${img.height}x${img.channels}, not 28x28x3`);
    const base = n * hw * 3;
    for (let p = 0; p < hw; p++) {
      for (let c = 0; c < 3; c++) {
        const v = ((img.data[p * 3 + c] as number) / 255 - 0.5) / 0.5;
        out[layout === 'NHWC' ? base + p * 3 + c : base + c * hw + p] = v;
      }
    }
  });
  return out;
}

export interface ClassifierOutput {
  predictions: Int32Array;
  /** n x dim features, when asked for and available. */
  features?: Float32Array;
  featureDim?: number;
}

/** Predicted classes (first maximum, as torch.argmax) and optionally features. */
export async function classifyDigits(c: DigitClassifier, images: RawImage[], withFeatures = false): Promise<ClassifierOutput> {
  if (withFeatures && !c.features) throw new GradeInputError(`${c.file}: has no "features" output (needed for digit-classifier features)`);
  const dims = c.layout === 'NHWC' ? [images.length, DIGIT_SIZE, DIGIT_SIZE, 3] : [images.length, 3, DIGIT_SIZE, DIGIT_SIZE];
  const outs = await c.model.run({ [c.input]: { data: digitBatch(images, c.layout), dims } }, withFeatures ? [c.logits, c.features as string] : [c.logits]);
  const logits = outs[c.logits]?.data as Float32Array;
  const predictions = new Int32Array(images.length);
  for (let n = 0; n < images.length; n++) {
    let best = 0;
    for (let k = 1; k < DIGIT_CLASSES; k++) if ((logits[n * DIGIT_CLASSES + k] as number) > (logits[n * DIGIT_CLASSES + best] as number)) best = k;
    predictions[n] = best;
  }
  if (!withFeatures) return { predictions };
  const f = outs[c.features as string] as { data: Float32Array; dims: number[] };
  return { predictions, features: f.data, featureDim: f.data.length / images.length };
}

/**
 * Accuracy of the ONNX digit classifier in `file` on a labelled dataset of 28x28 RGB images,
 * classified 512 at a time (the session is closed afterwards).
 */
export async function datasetAccuracy(file: string, set: ImageDataset): Promise<{ correct: number; total: number; accuracy: number }> {
  if (!set.labels) throw new Error(`datasetAccuracy: the dataset graded with ${file} has no labels`);
  const { height, width, channels } = set.shape;
  const classifier = await loadDigitClassifier(file);
  let correct = 0;
  try {
    for (let start = 0; start < set.length; start += 512) {
      const idx = Array.from({ length: Math.min(512, set.length - start) }, (_, i) => start + i);
      const pixels = await set.getPixelsBatch(idx);
      const px = height * width * channels;
      const images = idx.map((_, i) => ({ width, height, channels, data: pixels.subarray(i * px, (i + 1) * px) }));
      const { predictions } = await classifyDigits(classifier, images);
      idx.forEach((v, i) => {
        if (predictions[i] === set.labels?.[v]) correct++;
      });
    }
  } finally {
    await classifier.model.dispose();
  }
  return { correct, total: set.length, accuracy: correct / set.length };
}
