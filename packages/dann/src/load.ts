/** Loading a trained run's chosen weights (its `best/` checkpoint) for prediction and t-SNE. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CheckpointError, findLatestCheckpoint, loadCheckpoint } from '@dlcv/core';
import { validateConfig, type TrainConfig } from './config';
import { DannNet } from './model';

export async function loadRunModel(runDir: string): Promise<{ net: DannNet; config: TrainConfig; checkpoint: string }> {
  const bestRoot = path.join(runDir, 'best');
  const dir = await findLatestCheckpoint(bestRoot);
  if (!dir) throw new CheckpointError(runDir, 'no trained model here (best/checkpoints/ is missing); train this run first');
  const jsonFile = path.join(dir, 'checkpoint.json');
  let config: TrainConfig;
  try {
    config = (JSON.parse(await fs.readFile(jsonFile, 'utf8')) as { config: TrainConfig }).config;
    validateConfig(config);
  } catch (err) {
    throw new CheckpointError(jsonFile, `not a DANN run's checkpoint (${(err as Error).message})`);
  }
  const net = new DannNet(config.net);
  try {
    await loadCheckpoint(dir, { models: { net: net.allVariables() } });
  } catch (err) {
    net.dispose();
    throw err;
  }
  return { net, config, checkpoint: dir };
}
