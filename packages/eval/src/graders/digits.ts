/**
 * Problem 2's grader: accuracy of the homework's digit classifier (SPEC.md: Conv 3->6 k5, ReLU,
 * MaxPool 2, Conv 6->16 k5, ReLU, MaxPool 2, FC 256->128->64->10, inputs (x/255 - 0.5) / 0.5)
 * on images named `<label>_<nnn>.png`, the label being the first character, as the official
 * script reads it. The network is an ONNX file: by default the one this package trains and
 * ships (assets/digit-classifier.onnx, NHWC input), or a user's own, e.g. the course's
 * Classifier.pth exported by tools/eval-export-classifier.py (NCHW input).
 */
import * as path from 'node:path';
import type { RawImage } from '@dlcv/core';
import { OnnxModel } from '../onnx/runtime';
import { assetsDir, byFile, describeFiles, GradeInputError, listFolder, loadImages, type SkippedFile } from './files';

export const DIGIT_SIZE = 28;
export const DIGIT_CLASSES = 10;

export function defaultDigitModel(): string {
  return path.join(assetsDir(), 'digit-classifier.onnx');
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
    throw new GradeInputError(`${file}: a digit classifier takes one image batch [N, 28, 28, 3] or [N, 3, 28, 28]; this file's inputs: ${model.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join('; ')}`);
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
    if (img.width !== DIGIT_SIZE || img.height !== DIGIT_SIZE || img.channels !== 3) throw new Error(`digitBatch: image ${n} is ${img.width}x${img.height}x${img.channels}, not 28x28x3`);
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

/** The label of a file name `<label>_<anything>.png`, or undefined. */
export function digitLabelOf(fileName: string): number | undefined {
  const m = /^([0-9])_.*\.(png|jpe?g)$/i.exec(fileName);
  return m ? Number(m[1]) : undefined;
}

export interface ClassAccuracy {
  label: number;
  total: number;
  correct: number;
  /** null when the class has no images. */
  accuracy: number | null;
}

export interface DigitsResult {
  grader: 'digits';
  folder: string;
  model: { file: string; layout: 'NHWC' | 'NCHW' };
  total: number;
  correct: number;
  accuracy: number;
  perClass: ClassAccuracy[];
  /** Image files not graded (bad name, unreadable, wrong size) - only with skipBad. */
  skipped: SkippedFile[];
  /** Non-image entries of the folder. */
  ignored: SkippedFile[];
}

export interface GradeDigitsOptions {
  /** ONNX classifier (default: the shipped reference network). */
  model?: string;
  /** Grade the good images and report the bad ones instead of stopping. */
  skipBad?: boolean;
  /** Resize images that are not 28x28 instead of treating them as bad. */
  resize?: boolean;
  batchSize?: number;
}

export function perClassAccuracy(labels: ArrayLike<number>, predictions: ArrayLike<number | undefined>, classes = DIGIT_CLASSES): ClassAccuracy[] {
  const rows = Array.from({ length: classes }, (_, label) => ({ label, total: 0, correct: 0, accuracy: null as number | null }));
  for (let i = 0; i < labels.length; i++) {
    const row = rows[labels[i] as number] as ClassAccuracy;
    row.total++;
    if (predictions[i] === labels[i]) row.correct++;
  }
  for (const r of rows) r.accuracy = r.total ? r.correct / r.total : null;
  return rows;
}

export async function gradeDigits(folder: string, options: GradeDigitsOptions = {}): Promise<DigitsResult> {
  const listing = await listFolder(folder);
  const problems: SkippedFile[] = [];
  const labelled: { file: string; label: number }[] = [];
  for (const file of listing.images) {
    const label = digitLabelOf(path.basename(file));
    if (label === undefined) problems.push({ file, reason: 'name does not start with a digit label and "_" (expected <label>_<nnn>.png)' });
    else labelled.push({ file, label });
  }
  const stop = () => {
    if (problems.length && !options.skipBad) {
      throw new GradeInputError(`${listing.folder}: ${describeFiles(problems)}. Fix them, or pass --skip-bad to grade the other images and list these`);
    }
  };
  stop();
  const classifier = await loadDigitClassifier(options.model);
  const labels: number[] = [];
  const predictions: number[] = [];
  try {
    const files = labelled.map((l) => l.file);
    const size = { width: DIGIT_SIZE, height: DIGIT_SIZE };
    for await (const chunk of loadImages(files, { channels: 3, size, resize: options.resize }, options.batchSize ?? 256, problems)) {
      // Fail before spending time on the rest when a problem is fatal anyway.
      stop();
      const { predictions: pred } = await classifyDigits(classifier, chunk.map((c) => c.image));
      chunk.forEach((c, i) => {
        labels.push((labelled[c.index] as { label: number }).label);
        predictions.push(pred[i] as number);
      });
    }
    stop();
  } finally {
    await classifier.model.dispose();
  }
  if (labels.length === 0) throw new GradeInputError(`${listing.folder}: no image could be graded (${describeFiles(problems)})`);
  const perClass = perClassAccuracy(labels, predictions);
  const correct = perClass.reduce((s, r) => s + r.correct, 0);
  return {
    grader: 'digits',
    folder: listing.folder,
    model: { file: classifier.file, layout: classifier.layout },
    total: labels.length,
    correct,
    accuracy: correct / labels.length,
    perClass,
    skipped: problems.sort(byFile),
    ignored: listing.ignored,
  };
}
