/**
 * A trained DANN is one of core's model folders (see core's model-folder.ts), written at the end of
 * every run from the chosen epoch's weights, as `<runDir>/model/`:
 *
 *   config.json        the DannNet config (DannNetConfig's fields) and facts about the training run
 *   weights.bin/.json  every variable of the network: weights, then the BatchNorm running statistics
 *
 * predict and tsne load it; given a run folder, they read the run's model/.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadModelWeights, MODEL_FILES, ModelFolderError, readModelConfig, saveModelFolder, z, type ModelFolderKind } from '@dlcv/core';
import { DannNet, dannNetConfigSchema } from './model';
import { RESULT_FILE } from './result';

/** The model folder inside a run folder. */
export const MODEL_DIR = 'model';

const configSchema = dannNetConfigSchema.extend({
  /** Free-form facts about the training run (run name, chosen epoch, data). */
  training: z.record(z.string(), z.unknown()).default({}),
});

export const DANN_MODEL: ModelFolderKind<z.infer<typeof configSchema>> = {
  format: 'dlcv-dann-model',
  version: 1,
  className: 'DannNet',
  configSchema,
  writtenBy: 'dlcv-dann train',
};

/** Saves `net` with the weights it holds now as a model folder. */
export async function saveDannModel(dir: string, net: DannNet, training: Record<string, unknown> = {}): Promise<void> {
  await saveModelFolder(dir, DANN_MODEL, { config: { ...net.config, training }, weights: { net: net.namedVariables() } });
}

const exists = (p: string) =>
  fs.stat(p).then(
    () => true,
    () => false,
  );

/**
 * The model folder meant by `dirOrRun`: a run folder's model/ when it has one, else the folder
 * itself. A run folder without model/ (training not finished) is an error naming the missing file.
 */
export async function resolveModelDir(dirOrRun: string): Promise<string> {
  const root = path.resolve(dirOrRun);
  const inRun = path.join(root, MODEL_DIR);
  if (await exists(inRun)) return inRun;
  if ((await exists(path.join(root, RESULT_FILE))) || (await exists(path.join(root, 'checkpoints')))) {
    throw new ModelFolderError(
      path.join(inRun, MODEL_FILES.config),
      'not found: the run has no model folder yet (it is written when training ends; finish the run with `dlcv-dann train --resume`)',
    );
  }
  return root;
}

export interface LoadedDannModel {
  net: DannNet;
  /** The model folder read. */
  dir: string;
  training: Record<string, unknown>;
}

/** Loads a model folder (or a run folder's); every problem is reported with the file it is in. */
export async function loadDannModel(dirOrRun: string): Promise<LoadedDannModel> {
  const dir = await resolveModelDir(dirOrRun);
  const { training, ...netConfig } = await readModelConfig(dir, DANN_MODEL);
  const net = new DannNet(netConfig);
  try {
    await loadModelWeights(dir, { net: net.namedVariables() });
  } catch (err) {
    net.dispose();
    throw err;
  }
  return { net, dir, training };
}
