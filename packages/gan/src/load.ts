/** Loading a trained generator from a run folder or one checkpoint folder of it. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, findLatestCheckpoint, loadCheckpoint } from '@dlcv/core';
import type { TrainConfig } from './config';
import { buildGenerator, checkConfig } from './models';
import { preciseStatsShapes } from './sampling';
import { PRECISE_STATS } from './trainer';

export interface LoadedGenerator {
  g: tf.LayersModel;
  /** G's precise BatchNorm statistics as the training run stored them, if it did. */
  preciseStats?: tf.Tensor[];
  config: TrainConfig;
  step: number;
  dir: string;
}

/** The checkpoint folder meant by `dirOrRun`: itself when it holds checkpoint.json, else the run's latest. */
export async function resolveCheckpoint(dirOrRun: string): Promise<string> {
  try {
    await fs.access(path.join(dirOrRun, 'checkpoint.json'));
    return dirOrRun;
  } catch {
    const latest = await findLatestCheckpoint(dirOrRun);
    if (!latest) throw new CheckpointError(dirOrRun, 'no checkpoint here (expected a run folder with checkpoints/ or a checkpoint folder with checkpoint.json); train one with `dlcv-gan train`');
    return latest;
  }
}

export async function loadGenerator(dirOrRun: string): Promise<LoadedGenerator> {
  const dir = await resolveCheckpoint(dirOrRun);
  const jsonFile = path.join(dir, 'checkpoint.json');
  let config: TrainConfig;
  let groups: Set<string>;
  try {
    // The architecture has to be known before the weights can be loaded into it.
    const json = JSON.parse(await fs.readFile(jsonFile, 'utf8')) as { config: TrainConfig; tensors?: { group: string }[] };
    config = json.config;
    groups = new Set((json.tensors ?? []).map((t) => t.group));
    checkConfig(config.gan);
  } catch (err) {
    throw new CheckpointError(jsonFile, `not a dlcv-gan checkpoint (${(err as Error).message})`);
  }
  const g = buildGenerator(config.gan);
  const stored = groups.has(`model:${PRECISE_STATS}`) ? preciseStatsShapes(g).map((shape) => tf.variable(tf.zeros(shape), false)) : undefined;
  const loaded = await loadCheckpoint(dir, { models: { g, ...(stored ? { [PRECISE_STATS]: stored } : {}) } });
  return { g, config, step: loaded.state.step, dir, preciseStats: stored };
}
