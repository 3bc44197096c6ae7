/**
 * A training run's configuration (saved in its checkpoints and result.json; a resumed run must
 * match it but for RESUMABLE_CHANGES), and the run specs the three modes of the homework turn into.
 */
import { checkJson, z } from '@dlcv/core';
import { dannNetConfigSchema, REPORT_NET } from './model';
import { DOMAINS, SOURCE_DOMAIN, type Scenario } from './data';

export const MODES = ['source', 'dann', 'target'] as const;
export type Mode = (typeof MODES)[number];

const positiveInt = z.number().int().min(1, 'must be a positive integer');

export const trainConfigSchema = z.object({
  net: dannNetConfigSchema,
  /** The report: 25 epochs (an epoch = one pass over the labelled training images). */
  epochs: positiveInt,
  /** The report: 256 (dann: 256 source + 256 target per step). BatchNorm needs 2. */
  batchSize: z.number().int().min(2, 'must be an integer >= 2 (BatchNorm needs 2)'),
  /** Adam's default, as the report left it. */
  lr: z.number().gt(0, 'must be positive'),
  /** Share of the labelled training set held out for choosing the epoch. */
  heldOutFraction: z.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1)'),
  /** gamma of the gradient-reversal schedule lambda = 2/(1+exp(-gamma p)) - 1 (Ganin et al.: 10). */
  gamma: z.number().min(0, 'must be >= 0'),
  seed: z.number().int().min(0, 'must be a non-negative integer').max(Number.MAX_SAFE_INTEGER),
  /** Use only the first N images of each train.csv (quick runs); null = all. */
  trainLimit: positiveInt.nullable(),
  /** Steps between checkpoints besides each epoch end (read as 50 from result files that lack it). */
  saveEvery: positiveInt.default(50),
});

export type TrainConfig = z.infer<typeof trainConfigSchema>;

/** Settings a resumed run may change: they do not change what the steps already taken computed. */
export const RESUMABLE_CHANGES = ['saveEvery'] as const;

export const DEFAULT_CONFIG: TrainConfig = {
  net: REPORT_NET,
  epochs: 25,
  batchSize: 256,
  lr: 1e-3,
  heldOutFraction: 0.1,
  gamma: 10,
  seed: 0,
  trainLimit: null,
  saveEvery: 50,
};

/** The config checked by its schema; errors name the setting (`config: epochs: must be a positive integer`). */
export function validateTrainConfig(c: TrainConfig): TrainConfig {
  return checkJson(c, trainConfigSchema, 'config');
}

/**
 * What one training run learns from: labelled images of one domain, plus (DANN) the unlabelled
 * train images of another. The `source` runs of both scenarios are the same run (MNIST-M only),
 * and `target` runs are the single-domain runs of SVHN and USPS: train-all trains each once.
 */
export const runSpecSchema = z.object({
  labelled: z.enum(DOMAINS),
  unlabelled: z.enum(DOMAINS).optional(),
});
export type RunSpec = z.infer<typeof runSpecSchema>;

export function specFor(scenario: Scenario, mode: Mode): RunSpec {
  if (mode === 'source') return { labelled: SOURCE_DOMAIN };
  if (mode === 'target') return { labelled: scenario };
  return { labelled: SOURCE_DOMAIN, unlabelled: scenario };
}

/** Folder name of a run: `mnistm-only`, `svhn-only`, `mnistm-to-usps-dann`. */
export function runName(spec: RunSpec): string {
  return spec.unlabelled ? `${spec.labelled}-to-${spec.unlabelled}-dann` : `${spec.labelled}-only`;
}

/** How the epoch is chosen, in words for logs, results and docs. */
export function selectionNote(spec: RunSpec, c: TrainConfig): string {
  return `epoch chosen by accuracy on ${Math.round(c.heldOutFraction * 100)}% of ${spec.labelled} train.csv held out of training${spec.unlabelled ? `; no ${spec.unlabelled} labels are read` : ''}`;
}
