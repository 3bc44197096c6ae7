/**
 * A trained generator on disk. `train` writes it as one of core's model folders (see core's
 * model-folder.ts), which `generate`, `grid` and `eval` load:
 *
 *   config.json        the generator's architecture (nz, ngf, channels, and the ndf of the
 *                      discriminator it was trained against), the noise its precise BatchNorm
 *                      statistics averaged over, and facts about the training run
 *   weights.bin/.json  two groups: "g", G's weights; "gPreciseStats", G's precise BatchNorm
 *                      statistics (sampling.ts), so sampling need not recompute them
 *
 * The commands also load G from a run folder or one of its checkpoints (`--checkpoint`).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  CheckpointError,
  describeIssues,
  loadCheckpoint,
  loadModelWeights,
  readCheckpointInfo,
  readModelConfig,
  resolveCheckpoint,
  saveModelFolder,
  z,
  type ModelFolderKind,
} from '@dlcv/core';
import { CALIBRATION, calibrationSchema, dcganConfigSchema, type Calibration, type DcganConfig } from './config';
import { buildGenerator } from './model';
import { preciseStatsShapes } from './sampling';

export { ModelFolderError } from '@dlcv/core';

/** Weight group of G's precise BatchNorm statistics, in checkpoints and model folders. */
export const PRECISE_STATS = 'gPreciseStats';

/** Where the saved weights stand in their training run. */
const trainingFactsSchema = z.object({
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  preset: z.string(),
  seed: z.number().int().min(0),
  data: z.string(),
});
export type TrainingFacts = z.infer<typeof trainingFactsSchema>;

const configSchema = z.object({
  /** 'A', 'B' or 'custom'. */
  model: z.string(),
  ...dcganConfigSchema.shape,
  calibration: calibrationSchema,
  training: trainingFactsSchema,
});

export const GAN_MODEL: ModelFolderKind<z.infer<typeof configSchema>> = {
  format: 'dlcv-gan-model',
  version: 1,
  className: 'Generator',
  configSchema,
  writtenBy: 'dlcv-gan train',
};

export interface SavedGeneratorInfo {
  model: string;
  gan: DcganConfig;
  calibration: Calibration;
  training: TrainingFacts;
}

/** Saves G with its precise BatchNorm statistics (as computePreciseStats lists them) as a model folder. */
export async function saveGeneratorFolder(dir: string, g: tf.LayersModel, preciseStats: tf.Variable[], info: SavedGeneratorInfo): Promise<void> {
  await saveModelFolder(dir, GAN_MODEL, {
    config: { model: info.model, ...info.gan, calibration: info.calibration, training: info.training },
    weights: { g, [PRECISE_STATS]: preciseStats },
  });
}

export interface LoadedGenerator {
  g: tf.LayersModel;
  /** G's precise BatchNorm statistics as the training run stored them, if it did. */
  preciseStats?: tf.Tensor[];
  /** 'A', 'B' or 'custom'. */
  model: string;
  gan: DcganConfig;
  /** The noise the precise statistics are (or, when none are stored, would be) computed from. */
  calibration: Calibration;
  /** The training step of the weights. */
  step: number;
  /** The model or checkpoint folder read. */
  dir: string;
}

/** Zero variables of the statistics' shapes, to load stored ones into. */
function statsHolder(g: tf.LayersModel): tf.Variable[] {
  return preciseStatsShapes(g).map((shape) => tf.tidy(() => tf.variable(tf.zeros(shape), false)));
}

/** Loads a model folder written by `train`; every problem is reported with the file it is in. */
export async function loadGeneratorFolder(dir: string): Promise<LoadedGenerator> {
  const root = path.resolve(dir);
  const cfg = await readModelConfig(root, GAN_MODEL);
  const gan: DcganConfig = { nz: cfg.nz, ngf: cfg.ngf, ndf: cfg.ndf, channels: cfg.channels };
  const g = buildGenerator(gan);
  const preciseStats = statsHolder(g);
  try {
    await loadModelWeights(root, { g, [PRECISE_STATS]: preciseStats });
  } catch (err) {
    g.dispose();
    tf.dispose(preciseStats);
    throw err;
  }
  return { g, preciseStats, model: cfg.model, gan, calibration: cfg.calibration, step: cfg.training.step, dir: root };
}

/** What a generator needs of a checkpoint's training config (older and newer runs alike). */
const checkpointConfigSchema = z.looseObject({ model: z.string(), gan: dcganConfigSchema, calibration: calibrationSchema.optional() });

/** Loads G (and its stored precise statistics, if any) from a run folder's latest checkpoint or one checkpoint folder. */
export async function loadGenerator(dirOrRun: string): Promise<LoadedGenerator> {
  const dir = await resolveCheckpoint(dirOrRun, '; train one with `dlcv-gan train`');
  const info = await readCheckpointInfo(dir);
  // The architecture has to be known before the weights can be loaded into it.
  const parsed = checkpointConfigSchema.safeParse(info.config);
  if (!parsed.success) throw new CheckpointError(path.join(dir, 'checkpoint.json'), `not a dlcv-gan checkpoint (config: ${describeIssues(parsed.error)})`);
  const { model, gan, calibration = CALIBRATION } = parsed.data;
  const g = buildGenerator(gan);
  const stored = info.groups.includes(`model:${PRECISE_STATS}`) ? statsHolder(g) : undefined;
  await loadCheckpoint(dir, { models: { g, ...(stored ? { [PRECISE_STATS]: stored } : {}) } });
  return { g, preciseStats: stored, model, gan, calibration, step: info.state.step, dir };
}
