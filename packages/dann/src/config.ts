/**
 * A training run's configuration, saved in its checkpoints (a resumed run must match it), and
 * the run specs the three modes of the homework turn into.
 */
import { REPORT_NET, type DannNetConfig } from './model';
import { SOURCE_DOMAIN, type Domain, type Scenario } from './data';

export const MODES = ['source', 'dann', 'target'] as const;
export type Mode = (typeof MODES)[number];

export interface TrainConfig {
  net: DannNetConfig;
  /** The report: 25 epochs (an epoch = one pass over the labelled training images). */
  epochs: number;
  /** The report: 256 (dann: 256 source + 256 target per step). */
  batchSize: number;
  /** Adam's default, as the report left it. */
  lr: number;
  /** Share of the labelled training set held out for choosing the epoch. */
  heldOutFraction: number;
  /** gamma of the gradient-reversal schedule lambda = 2/(1+exp(-gamma p)) - 1 (Ganin et al.: 10). */
  gamma: number;
  seed: number;
  /** Use only the first N images of each train.csv (quick runs); null = all. */
  trainLimit: number | null;
}

export const DEFAULT_CONFIG: TrainConfig = {
  net: REPORT_NET,
  epochs: 25,
  batchSize: 256,
  lr: 1e-3,
  heldOutFraction: 0.1,
  gamma: 10,
  seed: 0,
  trainLimit: null,
};

export function validateConfig(c: TrainConfig): void {
  const bad = (what: string) => {
    throw new Error(`config: ${what}`);
  };
  if (!Number.isInteger(c.epochs) || c.epochs < 1) bad(`epochs must be a positive integer, got ${c.epochs}`);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 2) bad(`batch size must be an integer >= 2 (BatchNorm needs 2), got ${c.batchSize}`);
  if (!(c.lr > 0)) bad(`learning rate must be positive, got ${c.lr}`);
  if (!(c.heldOutFraction > 0 && c.heldOutFraction < 1)) bad(`held-out fraction must be in (0, 1), got ${c.heldOutFraction}`);
  if (!(c.gamma >= 0)) bad(`gamma must be >= 0, got ${c.gamma}`);
  if (!Number.isSafeInteger(c.seed) || c.seed < 0) bad(`seed must be a non-negative integer, got ${c.seed}`);
  if (c.trainLimit !== null && (!Number.isInteger(c.trainLimit) || c.trainLimit < 1)) bad(`train limit must be a positive integer, got ${c.trainLimit}`);
}

/**
 * What one training run learns from: labelled images of one domain, plus (DANN) the unlabelled
 * train images of another. The `source` runs of both scenarios are the same run (MNIST-M only),
 * and `target` runs are the single-domain runs of SVHN and USPS: train-all trains each once.
 */
export interface RunSpec {
  labelled: Domain;
  unlabelled?: Domain;
}

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
