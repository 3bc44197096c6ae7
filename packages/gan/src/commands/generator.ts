/**
 * What `generate`, `grid` and `eval` share: where the generator comes from (a model folder, or
 * a run or checkpoint folder) and how it samples.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { flag, UsageError, userPath } from '@dlcv/core';
import { loadGenerator, loadGeneratorFolder, type LoadedGenerator } from '../model-io';
import { BN_STATS, RUNTIMES, type BnStats } from '../sampling';

/** model B's folder: the report's better FID. */
export const DEFAULT_MODEL_DIR = path.join('runs', 'gan-B', 'model');

export const GENERATOR_FLAGS = {
  model: flag.path({ help: "model folder written by `train` (a run folder's model/)", metavar: 'DIR', shown: DEFAULT_MODEL_DIR }),
  checkpoint: flag.path({ help: 'instead of --model: a run folder (its latest checkpoint) or one checkpoint folder', metavar: 'DIR' }),
  seed: flag.int({ help: 'seed of the noise vectors', default: 0, min: 0 }),
  bn: flag.choice(BN_STATS, { help: 'BatchNorm statistics to sample with: precise (stored with the weights) or the running averages', default: 'precise' }),
  'calibration-seed': flag.int({
    help: "recompute the precise statistics from this seed's calibration noise instead of using the stored ones (training stores seed 0's)",
    min: 0,
    metavar: 'SEED',
  }),
};

export const RUNTIME_FLAG = flag.choice(RUNTIMES, { help: 'run G through tfjs or ONNX Runtime', shown: 'onnx on the cpu engine, else tfjs' });

/**
 * Loads the generator the flags name and says which. With --calibration-seed the stored precise
 * statistics are dropped and `calibration` names that seed, so sampling recomputes them from it.
 */
export async function openGenerator(flags: { model?: string; checkpoint?: string; bn?: BnStats; 'calibration-seed'?: number }): Promise<LoadedGenerator> {
  if (flags.model !== undefined && flags.checkpoint !== undefined) throw new UsageError('give --model or --checkpoint, not both');
  const calibrationSeed = flags['calibration-seed'];
  if (calibrationSeed !== undefined && flags.bn === 'running') throw new UsageError('--calibration-seed recomputes the precise statistics; --bn running samples without them');
  const loaded = flags.checkpoint !== undefined ? await loadGenerator(flags.checkpoint) : await loadGeneratorFolder(flags.model ?? userPath(DEFAULT_MODEL_DIR));
  console.log(`generator: model ${loaded.model} from ${loaded.dir} (step ${loaded.step})`);
  if (calibrationSeed === undefined) return loaded;
  tf.dispose(loaded.preciseStats ?? []);
  console.log(`precise BatchNorm statistics: recomputed from calibration seed ${calibrationSeed}`);
  return { ...loaded, preciseStats: undefined, calibration: { ...loaded.calibration, seed: calibrationSeed } };
}
