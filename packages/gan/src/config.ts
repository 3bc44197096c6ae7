/** Training configuration: presets and the checks a resumed run makes against its checkpoint. */
import { DEFAULT_DETECTOR, type DetectorConfig } from './detectors';
import { checkConfig, type DcganConfig } from './models';
import { CALIBRATION, type Calibration } from './sampling';

export interface OptimPreset {
  lrD: number;
  lrG: number;
  beta1: number;
  batchSize: number;
}

export const TRAIN_PRESETS = {
  /**
   * The report's table: Adam, D 0.0005, G 0.005, beta1 0.5. It does not give a batch size; its
   * models are "copied from the PyTorch DCGAN tutorial", whose batch is 128.
   */
  report: { lrD: 5e-4, lrG: 5e-3, beta1: 0.5, batchSize: 128 },
  /** PyTorch DCGAN tutorial: Adam 2e-4 for both, beta1 0.5, batch 128. */
  tutorial: { lrD: 2e-4, lrG: 2e-4, beta1: 0.5, batchSize: 128 },
} as const satisfies Record<string, OptimPreset>;

export type PresetName = keyof typeof TRAIN_PRESETS;

/**
 * Default epochs: 25 epochs of the 38,464 training faces at batch 128 are 7,500 steps, about the
 * tutorial's 5 epochs over CelebA's 202,599 images (7,900 steps).
 */
export const DEFAULT_EPOCHS = 25;

export interface TrainConfig extends OptimPreset {
  /** 'A', 'B' or 'custom' (tests, reduced widths). */
  model: string;
  gan: DcganConfig;
  preset: PresetName | 'custom';
  epochs: number;
  seed: number;
  /** Images in the training set: fixes the steps per epoch, so a resume must see the same. */
  datasetSize: number;
  /** Where the images came from, for the record. */
  data: string;
  /** Save a checkpoint every this many steps (and at every epoch end). */
  checkpointEvery: number;
  /** Run the mode-collapse check every this many steps. */
  diversityEvery: number;
  detector: DetectorConfig;
  /** Stop at the first detected failure instead of warning and holding checkpoints back. */
  stopOnFailure: boolean;
  /** Noise for the precise BatchNorm statistics of the per-epoch grids (see sampling.ts). */
  calibration: Calibration;
}

export function makeTrainConfig(partial: Partial<TrainConfig> & Pick<TrainConfig, 'gan' | 'datasetSize' | 'data'>): TrainConfig {
  const preset = partial.preset ?? 'report';
  const base = preset === 'custom' ? TRAIN_PRESETS.report : TRAIN_PRESETS[preset];
  const config: TrainConfig = {
    model: 'custom',
    preset,
    ...base,
    epochs: DEFAULT_EPOCHS,
    seed: 0,
    checkpointEvery: 500,
    diversityEvery: 50,
    detector: DEFAULT_DETECTOR,
    stopOnFailure: false,
    calibration: CALIBRATION,
    ...partial,
  };
  validateTrainConfig(config);
  return config;
}

export function validateTrainConfig(c: TrainConfig): void {
  checkConfig(c.gan);
  const positiveInts = {
    batchSize: c.batchSize,
    epochs: c.epochs,
    checkpointEvery: c.checkpointEvery,
    diversityEvery: c.diversityEvery,
    datasetSize: c.datasetSize,
    'calibration.batches': c.calibration.batches,
    'calibration.batchSize': c.calibration.batchSize,
  };
  for (const [k, v] of Object.entries(positiveInts)) if (!Number.isInteger(v) || v < 1) throw new Error(`training config: ${k} must be a positive integer, got ${v}`);
  for (const [k, v] of Object.entries({ lrD: c.lrD, lrG: c.lrG })) if (!(v > 0) || !Number.isFinite(v)) throw new Error(`training config: ${k} must be a positive number, got ${v}`);
  if (!(c.beta1 >= 0 && c.beta1 < 1)) throw new Error(`training config: beta1 must be in [0, 1), got ${c.beta1}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new Error(`training config: seed must be a non-negative integer, got ${c.seed}`);
  if (c.datasetSize < c.batchSize) throw new Error(`training config: ${c.datasetSize} images are fewer than one batch of ${c.batchSize}`);
}

/** Fields a resumed run must share with its checkpoint: they change the weights it would reach. */
const RESUME_FIXED = ['gan', 'lrD', 'lrG', 'beta1', 'batchSize', 'seed', 'datasetSize'] as const;

/** Differences that forbid resuming, as "field: checkpoint X, now Y" strings. */
export function resumeConflicts(saved: Partial<TrainConfig>, now: TrainConfig): string[] {
  return RESUME_FIXED.filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(now[k])).map((k) => `${k}: checkpoint ${JSON.stringify(saved[k])}, now ${JSON.stringify(now[k])}`);
}
