/**
 * The homework's baselines for each grader's number (SPEC.md), as saved with a result
 * (`--save`) for core's report pages: problem 1 FID 30 simple / 27 strong (lower is better) and
 * face rate 85% / 90%; problem 2 digit accuracy 80% / 88%; problem 3 DANN accuracy 40% on SVHN,
 * 76% on USPS (one baseline each).
 */
import * as path from 'node:path';
import type { HomeworkScore } from '@dlcv/core';
import type { DannResult } from './graders/dann';
import type { DigitsResult } from './graders/digits';
import type { FaceResult } from './graders/face';
import type { FidResult } from './graders/fid';

export function digitsScore(r: DigitsResult): HomeworkScore {
  return { problem: '2', metric: 'digit-classifier accuracy', value: r.accuracy, simple: 0.8, strong: 0.88, higherIsBetter: true, unit: '%' };
}

/** The strict network's accuracy: not the homework's grader, so the homework's baselines do not apply. */
export function strictDigitsScore(r: DigitsResult): HomeworkScore[] {
  return r.strict
    ? [
        {
          problem: '2',
          metric: 'strict digit-classifier accuracy (not the homework grader)',
          value: r.strict.accuracy,
          simple: null,
          strong: null,
          higherIsBetter: true,
          unit: '%',
        },
      ]
    : [];
}

/** FID's baselines hold only for Inception features; another network's distance is shown without them. */
export function fidScore(r: FidResult): HomeworkScore {
  const inception = r.network.isInception;
  return { problem: '1', metric: r.label, value: r.value, simple: inception ? 30 : null, strong: inception ? 27 : null, higherIsBetter: false };
}

/** The baselines were set with the assignment's detector, dlib HOG; face-api's rate is labelled as not that. */
export function faceScore(r: FaceResult): HomeworkScore {
  const metric = r.detector.sameAsAssignment ? 'face recognition rate (dlib HOG)' : 'face recognition rate (face-api, not dlib)';
  return { problem: '1', metric, value: r.rate, simple: 0.85, strong: 0.9, higherIsBetter: true, unit: '%' };
}

/** The target domain is read from the truth file's path (hw2_data/digits/svhn/val.csv); unknown: no baseline. */
export function dannScore(r: DannResult): HomeworkScore {
  const parts = path.resolve(r.truth).toLowerCase().split(path.sep);
  const baseline = parts.includes('svhn') ? 0.4 : parts.includes('usps') ? 0.76 : null;
  return { problem: '3', metric: 'DANN accuracy', value: r.accuracy, simple: baseline, strong: baseline, higherIsBetter: true, unit: '%' };
}
