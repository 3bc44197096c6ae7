/**
 * Problem 3's grader: accuracy of a prediction CSV (`image_name,label`, the format of
 * test.csv) against a ground-truth CSV of the same images. Both files go through core's CSV
 * checks (header, integer labels 0-9, no duplicate names; errors give file:line). Every truth
 * image needs a prediction: missing rows stop the grading unless `allowMissing`, which counts
 * them as wrong and lists them. Predictions for images not in the truth file are reported.
 */
import * as path from 'node:path';
import { readLabelCsv } from '@dlcv/core';
import { GradeInputError } from '../files';
import { DIGIT_CLASSES } from '../networks/digit-classifier';
import { perClassAccuracy, type ClassAccuracy } from './digits';

export interface NameList {
  count: number;
  /** The first few names, for the report. */
  examples: string[];
}

export interface DannResult {
  grader: 'dann';
  predictions: string;
  truth: string;
  total: number;
  correct: number;
  accuracy: number;
  perClass: ClassAccuracy[];
  /** Truth images without a prediction (counted as wrong). */
  missing: NameList;
  /** Predicted images that are not in the truth file (ignored). */
  extra: NameList;
}

export interface GradeDannOptions {
  /** Count truth images without a prediction as wrong instead of stopping. */
  allowMissing?: boolean;
}

const EXAMPLES = 5;

export async function gradeDann(predCsv: string, truthCsv: string, options: GradeDannOptions = {}): Promise<DannResult> {
  const predFile = path.resolve(predCsv),
    truthFile = path.resolve(truthCsv);
  const [pred, truth] = await Promise.all([readLabelCsv(predFile, { numClasses: DIGIT_CLASSES }), readLabelCsv(truthFile, { numClasses: DIGIT_CLASSES })]);
  const predicted = new Map(pred.map((r) => [r.imageName, r.label]));
  const truthNames = new Set(truth.map((r) => r.imageName));
  const missing = truth.filter((r) => !predicted.has(r.imageName)).map((r) => r.imageName);
  const extra = pred.filter((r) => !truthNames.has(r.imageName)).map((r) => r.imageName);
  if (missing.length && !options.allowMissing) {
    throw new GradeInputError(
      `${predFile}: no prediction for ${missing.length} of the ${truth.length} images of ${truthFile} (e.g. ${missing.slice(0, EXAMPLES).join(', ')}). ` +
        'Every image needs a row; pass --allow-missing to count them as wrong',
    );
  }
  const labels = truth.map((r) => r.label);
  const predictions = truth.map((r) => predicted.get(r.imageName));
  const perClass = perClassAccuracy(labels, predictions);
  const correct = perClass.reduce((s, r) => s + r.correct, 0);
  return {
    grader: 'dann',
    predictions: predFile,
    truth: truthFile,
    total: truth.length,
    correct,
    accuracy: correct / truth.length,
    perClass,
    missing: { count: missing.length, examples: missing.slice(0, EXAMPLES) },
    extra: { count: extra.length, examples: extra.slice(0, EXAMPLES) },
  };
}
