/**
 * Problem 2's grader: accuracy of the homework's digit classifier (networks/digit-classifier.ts)
 * on images named `<label>_<nnn>.png`, the label being the first character, as the official
 * script reads it; beside it, by default, the accuracy of the strict grader's stronger network
 * on the same images (a generator that only fools the small network scores lower there).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { byFile, describeFiles, GradeInputError, listFolder, loadImages, type SkippedFile } from '../files';
import { classifyDigits, defaultStrictDigitModel, DIGIT_CLASSES, DIGIT_SIZE, loadDigitClassifier, type DigitClassifier } from '../networks/digit-classifier';

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
  /** The set the homework expects and, when the folder differs from it (graded with allowPartial), how. */
  expected: DigitSetShape;
  shortfall: string[];
  /** The same images through the strict grader's network, when one was used. */
  strict?: { model: { file: string; layout: 'NHWC' | 'NCHW' }; correct: number; accuracy: number; perClass: ClassAccuracy[] };
}

/** The homework's digit set: `classes` labels 0.., `perClass` images of each. */
export interface DigitSetShape {
  classes: number;
  perClass: number;
}

export const HOMEWORK_DIGITS: DigitSetShape = { classes: DIGIT_CLASSES, perClass: 100 };

/** `--expect 10x100`. */
export function parseDigitSetShape(text: string): DigitSetShape {
  const m = /^(\d+)x(\d+)$/.exec(text);
  const classes = Number(m?.[1]),
    perClass = Number(m?.[2]);
  if (!m || classes < 1 || classes > DIGIT_CLASSES || perClass < 1)
    throw new GradeInputError(`--expect must be CLASSESxPER_CLASS with 1..${DIGIT_CLASSES} classes, e.g. 10x100; got "${text}"`);
  return { classes, perClass };
}

/** How the labels found differ from the expected shape, one line per class ("3: 12 of 100", "4: missing"). */
export function digitSetShortfall(labels: readonly number[], shape: DigitSetShape): string[] {
  const counts = new Array<number>(DIGIT_CLASSES).fill(0);
  for (const l of labels) counts[l] = (counts[l] as number) + 1;
  return counts.flatMap((n, label) => {
    const want = label < shape.classes ? shape.perClass : 0;
    if (n === want) return [];
    if (n === 0) return [`${label}: missing`];
    return [`${label}: ${n} of ${want}`];
  });
}

export interface GradeDigitsOptions {
  /** ONNX classifier (default: the shipped reference network). */
  model?: string;
  /** The strict grader's ONNX network; default: the shipped one, if present, unless `model` is given; null: none. */
  strictModel?: string | null;
  /** Grade the good images and report the bad ones instead of stopping. */
  skipBad?: boolean;
  /** Resize images that are not 28x28 instead of treating them as bad. */
  resize?: boolean;
  /** The set the homework writes (default 10 classes x 100); another shape is refused unless allowPartial. */
  expect?: DigitSetShape;
  /** Grade a set whose shape differs from `expect`, saying how it differs. */
  allowPartial?: boolean;
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
  const expected = options.expect ?? HOMEWORK_DIGITS;
  const shortfall = digitSetShortfall(
    labelled.map((l) => l.label),
    expected,
  );
  if (shortfall.length && !options.allowPartial) {
    throw new GradeInputError(
      `${listing.folder}: not the expected set of ${expected.classes} classes x ${expected.perClass} images (found ${labelled.length}; ${shortfall.join(', ')}). ` +
        'Regenerate the missing images, pass --expect CxN for another shape, or --allow-partial to grade these anyway',
    );
  }
  const shipped = options.model === undefined && existsSync(defaultStrictDigitModel()) ? defaultStrictDigitModel() : null;
  const strictFile = options.strictModel === undefined ? shipped : options.strictModel;
  const classifiers = [await loadDigitClassifier(options.model)];
  const { labels, predictions } = await predictAll(classifiers, labelled, options, problems, stop, strictFile);
  if (labels.length === 0) throw new GradeInputError(`${listing.folder}: no image could be graded (${describeFiles(problems)})`);
  const score = (p: number[]) => {
    const perClass = perClassAccuracy(labels, p);
    const correct = perClass.reduce((s, r) => s + r.correct, 0);
    return { perClass, correct, accuracy: correct / labels.length };
  };
  const { perClass, correct } = score(predictions[0] as number[]);
  const [classifier, strict] = classifiers as [DigitClassifier, DigitClassifier | undefined];
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
    expected,
    shortfall,
    ...(strict ? { strict: { model: { file: strict.file, layout: strict.layout }, ...score(predictions[1] as number[]) } } : {}),
  };
}

/**
 * Labels and the predictions of each classifier (the strict one, from `strictFile`, is loaded
 * and appended to `classifiers` here), image by image; the models are released at the end.
 */
async function predictAll(
  classifiers: DigitClassifier[],
  labelled: { file: string; label: number }[],
  options: GradeDigitsOptions,
  problems: SkippedFile[],
  stop: () => void,
  strictFile: string | null,
): Promise<{ labels: number[]; predictions: number[][] }> {
  const labels: number[] = [];
  const predictions: number[][] = [];
  try {
    if (strictFile) classifiers.push(await loadDigitClassifier(strictFile));
    for (const _ of classifiers) predictions.push([]);
    const files = labelled.map((l) => l.file);
    const size = { width: DIGIT_SIZE, height: DIGIT_SIZE };
    for await (const chunk of loadImages(files, { channels: 3, size, resize: options.resize }, options.batchSize ?? 256, problems)) {
      // Fail before spending time on the rest when a problem is fatal anyway.
      stop();
      const images = chunk.map((c) => c.image);
      for (const [k, c] of classifiers.entries()) {
        const { predictions: pred } = await classifyDigits(c, images);
        (predictions[k] as number[]).push(...pred);
      }
      for (const c of chunk) labels.push((labelled[c.index] as { label: number }).label);
    }
    stop();
  } finally {
    for (const c of classifiers) await c.model.dispose();
  }
  return { labels, predictions };
}
