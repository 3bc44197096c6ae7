/** Flags shared by the commands: data location, training settings, the runs folder. */
import * as path from 'node:path';
import { flag } from '@dlcv/core';
import { DEFAULT_CONFIG, type TrainConfig } from '../config';
import type { DataLocation } from '../data';

/**
 * The runs folder when --out is not given, relative to the working directory (`pnpm --filter
 * @dlcv/dann` runs in packages/dann: packages/dann/runs/dann, where hw2_3.sh looks).
 */
export const DEFAULT_RUNS = path.join('runs', 'dann');

export const DATA_FLAGS = {
  data: flag.path({ help: "the homework's digits folder (hw2_data/digits or hw2_data), holding mnistm/, svhn/ and usps/", metavar: 'DIR', shown: 'the embedded sets' }),
  'cache-dir': flag.path({ help: 'cache folder of the embedded sets', metavar: 'DIR', shown: 'DLCV_CACHE_DIR or ~/.cache/dlcv-hw2' }),
};

export const OUT_FLAG = {
  out: flag.path({ help: 'runs folder: one folder per run inside', metavar: 'DIR', shown: DEFAULT_RUNS }),
};

export const TRAIN_FLAGS = {
  ...DATA_FLAGS,
  ...OUT_FLAG,
  epochs: flag.int({ help: 'epochs (passes over the labelled training images)', default: DEFAULT_CONFIG.epochs, min: 1 }),
  batch: flag.int({ help: 'batch size (dann: this many source + this many target images)', default: DEFAULT_CONFIG.batchSize, min: 2 }),
  lr: flag.float({ help: "Adam's learning rate", default: DEFAULT_CONFIG.lr }),
  seed: flag.int({ help: 'seed of the weights, data order and dropout masks', default: DEFAULT_CONFIG.seed, min: 0 }),
  limit: flag.int({ help: 'use only the first N images of each train.csv (quick runs)', min: 1, shown: 'all' }),
  'save-every': flag.int({ help: 'checkpoint every this many steps (and at each epoch end)', default: DEFAULT_CONFIG.saveEvery, min: 1, metavar: 'STEPS' }),
};

export const TRACE_FLAG = {
  trace: flag.bool({ help: "also score the val.csv files at each epoch end (metrics.jsonl, result.json's epochs); the epoch is still chosen on held-out source images" }),
};

interface DataFlags {
  data: string | undefined;
  'cache-dir': string | undefined;
}

export function dataLocation(flags: DataFlags): DataLocation {
  return { root: flags.data, cacheDir: flags['cache-dir'], log: (m) => console.log(m) };
}

export function runsDir(flags: { out: string | undefined }): string {
  return flags.out ?? path.resolve(DEFAULT_RUNS);
}

export function trainConfig(flags: { epochs: number; batch: number; lr: number; seed: number; limit: number | undefined; 'save-every': number }): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    epochs: flags.epochs,
    batchSize: flags.batch,
    lr: flags.lr,
    seed: flags.seed,
    trainLimit: flags.limit ?? null,
    saveEvery: flags['save-every'],
  };
}
