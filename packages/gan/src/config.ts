/**
 * Configuration, typed once with zod: the DCGAN's architecture, the failure detectors, the noise
 * of the precise BatchNorm statistics and the training run; their presets and defaults; and the
 * settings a resumed run may change.
 */
import { checkJson, z } from '@dlcv/core';

const positiveInt = z.number().int('must be a positive integer').min(1, 'must be a positive integer');
const positive = z.number().gt(0, 'must be a positive number');

export const dcganConfigSchema = z.object({
  /** Length of the noise vector z. Report and tutorial: 100. */
  nz: positiveInt,
  /** Generator width: channels before its RGB output layer (A 64, B 128); its first layer has 8x that. */
  ngf: positiveInt,
  /** Discriminator width: channels of its first conv (A 64, B 128), doubling at each stage. */
  ndf: positiveInt,
  /** Image channels: 3 for the RGB faces. */
  channels: z.union([z.literal(1), z.literal(3)], 'must be 1 or 3'),
});
export type DcganConfig = z.infer<typeof dcganConfigSchema>;

export const detectorConfigSchema = z.object({
  /** Steps over which loss medians are taken (medians: a single lucky batch is not a collapse). */
  window: positiveInt,
  /**
   * D collapse when median errD is below this... 0.05 ~ -ln(0.975) - ln(1 - 0.025): D gives real
   * images >= 0.975 and fakes <= 0.025 on average. Healthy DCGAN runs stay around 0.2-1.5.
   */
  dLossFloor: z.number(),
  /** ...and median errG above this: -ln D(G(z)) > 6 means D(G(z)) < 0.0025. */
  gLossCeil: z.number(),
  /**
   * Mode collapse when the mean pairwise distance of a generated batch is below this fraction of
   * a real batch's. Distinct faces differ in most pixels; a collapsed G repeats one image with
   * small variations (ratio well under 0.1).
   */
  diversityRatio: z.number().min(0, 'must be >= 0'),
  /** No mode-collapse verdict before this step: an untrained G's samples are all alike. */
  warmupSteps: z.number().int().min(0),
});
export type DetectorConfig = z.infer<typeof detectorConfigSchema>;

export const DEFAULT_DETECTOR: DetectorConfig = { window: 50, dLossFloor: 0.05, gLossCeil: 6, diversityRatio: 0.2, warmupSteps: 200 };

/**
 * Noise batches the precise BatchNorm statistics average over (see sampling.ts); `seed` picks
 * the calibration noise stream (absent: 0, the stream every training run stores its statistics from).
 */
export const calibrationSchema = z.object({
  batches: positiveInt,
  batchSize: positiveInt,
  seed: z.number().int('must be a non-negative integer').min(0, 'must be a non-negative integer').optional(),
});
export type Calibration = z.infer<typeof calibrationSchema>;

/**
 * Ten batches of 100, i.e. 1,000 samples (16 to 1,024 positions each, by layer) per channel,
 * against one batch of 128 per training step.
 */
export const CALIBRATION: Calibration = { batches: 10, batchSize: 100 };

export const optimPresetSchema = z.object({
  /** Adam's learning rate of the discriminator. */
  lrD: positive,
  /** Adam's learning rate of the generator. */
  lrG: positive,
  /** Adam beta1: 0.5 in the DCGAN paper, the tutorial and the report. */
  beta1: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)'),
  batchSize: positiveInt,
});
export type OptimPreset = z.infer<typeof optimPresetSchema>;

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
export const PRESET_NAMES = Object.keys(TRAIN_PRESETS) as PresetName[];

/**
 * Default epochs: 25 epochs of the 38,464 training faces at batch 128 are 7,500 steps, about the
 * tutorial's 5 epochs over CelebA's 202,599 images (7,900 steps).
 */
export const DEFAULT_EPOCHS = 25;

/**
 * The GPU run (`train --gpu`): the report's model B and optimizer (its table, batch 128) for 20
 * epochs of the 38,464 training faces, 6,000 steps. Budget on an H200 from issue 13's PyTorch
 * CUDA times there (model B's step at batch 128: 12.9 ms with TF32, 45.9 ms fp32), ours held to
 * <= 1.25x of them: training 6,000 x 16-57 ms = 97-344 s; an epoch's grid, diversity checks and
 * checkpoint well under a second each (20 epochs); generating the 1,000 graded faces and grading
 * them about half a minute: under 8 minutes in all.
 */
export const GPU_RUN = { model: 'B', preset: 'report', epochs: 20 } as const satisfies { model: string; preset: PresetName; epochs: number };

const trainConfigFields = optimPresetSchema.extend({
  /** 'A', 'B' or 'custom' (tests, reduced widths). */
  model: z.string(),
  gan: dcganConfigSchema,
  preset: z.enum([...PRESET_NAMES, 'custom']),
  epochs: positiveInt,
  seed: z.number().int('must be a non-negative integer').min(0, 'must be a non-negative integer'),
  /** Images in the training set: fixes the steps per epoch, so a resume must see the same. */
  datasetSize: positiveInt,
  /** Where the images came from, for the record. */
  data: z.string(),
  /** Save a checkpoint every this many steps (and at every epoch end). */
  saveEvery: positiveInt,
  /** Run the mode-collapse check every this many steps. */
  diversityEvery: positiveInt,
  detector: detectorConfigSchema,
  /** Stop at the first detected failure instead of warning and holding checkpoints back. */
  stopOnFailure: z.boolean(),
  /** Noise for the precise BatchNorm statistics of the per-epoch grids and the saved model. */
  calibration: calibrationSchema,
});

export const trainConfigSchema = trainConfigFields.refine((c) => c.datasetSize >= c.batchSize, {
  path: ['datasetSize'],
  error: (issue) => {
    const c = issue.input as { datasetSize: number; batchSize: number };
    return `${c.datasetSize} images are fewer than one batch of ${c.batchSize}`;
  },
});
export type TrainConfig = z.infer<typeof trainConfigSchema>;

/** Settings a resumed run must share with its checkpoint: they change the weights it would reach. */
const RESUME_FIXED: readonly string[] = ['gan', 'lrD', 'lrG', 'beta1', 'batchSize', 'seed', 'datasetSize'];

/**
 * Every other setting may change when a run is resumed (core's openRun `mayChange`), and so may
 * `checkpointEvery`, saveEvery's name in checkpoints written by earlier versions of this package,
 * so that those runs resume too.
 */
export const RESUMABLE_CHANGES: readonly string[] = [...Object.keys(trainConfigFields.shape).filter((k) => !RESUME_FIXED.includes(k)), 'checkpointEvery'];

/** Checks a config, naming the field of each problem; returns the checked copy. */
export function validateTrainConfig(c: TrainConfig): TrainConfig {
  return checkJson(c, trainConfigSchema, 'training config');
}

export function makeTrainConfig(partial: Partial<TrainConfig> & Pick<TrainConfig, 'gan' | 'datasetSize' | 'data'>): TrainConfig {
  const preset = partial.preset ?? 'report';
  const base = preset === 'custom' ? TRAIN_PRESETS.report : TRAIN_PRESETS[preset];
  return validateTrainConfig({
    model: 'custom',
    preset,
    ...base,
    epochs: DEFAULT_EPOCHS,
    seed: 0,
    saveEvery: 500,
    diversityEvery: 50,
    detector: DEFAULT_DETECTOR,
    stopOnFailure: false,
    calibration: CALIBRATION,
    ...partial,
  });
}
