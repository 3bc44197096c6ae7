/**
 * A saved DDPM is one of core's model folders (see core's model-folder.ts):
 *
 *   config.json            the U-Net config (diffusers-style snake_case), sampling defaults and
 *                          facts about the training run
 *   weights.bin/.json      the U-Net's weights (the EMA copy when written by `train`)
 *   scheduler_config.json  the noise schedule (diffusers' DDPMScheduler keys)
 */
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { loadModelWeights, MODEL_FILES as FOLDER_FILES, readModelConfig, readModelFile, saveModelFolder as saveFolder, z, type ModelFolderKind } from '@dlcv/core';
import { samplingDefaultsSchema, type SamplingDefaults } from './config';
import { buildUnet, validateUnetConfig, type UnetConfig } from './model';
import { resolveSchedulerConfig, type SchedulerConfig } from './schedulers';

export { ModelFolderError } from '@dlcv/core';

export const MODEL_FILES = { ...FOLDER_FILES, scheduler: 'scheduler_config.json' } as const;

const configSchema = z.object({
  n_feat: z.number(),
  in_channels: z.number(),
  n_classes: z.number(),
  image_size: z.number(),
  norm_num_groups: z.number(),
  sampling: samplingDefaultsSchema,
  /** Free-form facts about the training run (preset, steps, final loss, data). */
  training: z.record(z.string(), z.unknown()).default({}),
});

export const DDPM_MODEL: ModelFolderKind<z.infer<typeof configSchema>> = {
  format: 'dlcv-ddpm-model',
  version: 2,
  className: 'ContextUnet',
  configSchema,
  writtenBy: 'dlcv-ddpm train',
};

export interface SavedModelInfo {
  unet: UnetConfig;
  scheduler: SchedulerConfig;
  sampling: SamplingDefaults;
  training?: Record<string, unknown>;
}

/** Saves `model` (with the weights it holds now: pass the EMA copy) as a model folder. */
export async function saveModelFolder(dir: string, model: tf.LayersModel, info: SavedModelInfo): Promise<void> {
  const u = info.unet;
  await saveFolder(dir, DDPM_MODEL, {
    config: {
      n_feat: u.nFeat,
      in_channels: u.inChannels,
      n_classes: u.nClasses,
      image_size: u.imageSize,
      norm_num_groups: u.groups,
      sampling: info.sampling,
      training: info.training ?? {},
    },
    weights: { unet: model },
    files: { [MODEL_FILES.scheduler]: { _class_name: 'DDPMScheduler', ...info.scheduler } },
  });
}

export interface LoadedModel extends SavedModelInfo {
  model: tf.LayersModel;
  dir: string;
}

/** Loads a model folder; every problem is reported with the file it is in. */
export async function loadModelFolder(dir: string): Promise<LoadedModel> {
  const cfg = await readModelConfig(dir, DDPM_MODEL);
  const configFile = path.join(path.resolve(dir), MODEL_FILES.config);
  const unet = validateUnetConfig({ nFeat: cfg.n_feat, inChannels: cfg.in_channels, nClasses: cfg.n_classes, imageSize: cfg.image_size, groups: cfg.norm_num_groups }, configFile);
  const schedulerFile = path.join(path.resolve(dir), MODEL_FILES.scheduler);
  const scheduler = resolveSchedulerConfig(await readModelFile(dir, MODEL_FILES.scheduler, z.record(z.string(), z.unknown())), schedulerFile);
  if (cfg.sampling.steps > scheduler.num_train_timesteps)
    throw new Error(`${configFile}: sampling.steps ${cfg.sampling.steps} exceed the ${scheduler.num_train_timesteps} training timesteps`);
  const model = buildUnet(unet);
  try {
    await loadModelWeights(dir, { unet: model });
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, dir: path.resolve(dir), unet, scheduler, sampling: cfg.sampling, training: cfg.training };
}
