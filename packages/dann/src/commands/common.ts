/** Flags shared by the commands: data location, training settings, run folders. */
import * as path from 'node:path';
import { floatFlag, intFlag, UsageError, type FlagSpec } from '@dlcv/core';
import { DEFAULT_CONFIG, MODES, type Mode, type TrainConfig } from '../config';
import { SCENARIOS, type DataLocation, type Scenario } from '../data';

export const DEFAULT_RUNS = 'runs/dann';

export const DATA_FLAGS = {
  'data-root': { type: 'string' },
  'cache-dir': { type: 'string' },
} as const satisfies FlagSpec;

export const TRAIN_FLAGS = {
  ...DATA_FLAGS,
  out: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  limit: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'boolean' },
} as const satisfies FlagSpec;

export const TRAIN_USAGE = '[--data-root hw2_data/digits] [--cache-dir DIR] [--out runs/dann] [--epochs 25] [--batch 256] [--lr 0.001] [--seed 0] [--limit N] [--checkpoint-every 50] [--resume]';

type Flags = Record<string, string | boolean | undefined>;

export function dataLocation(flags: Flags): DataLocation {
  const root = flags['data-root'] as string | undefined;
  return { root, cacheDir: flags['cache-dir'] as string | undefined, log: (m) => console.log(m) };
}

export function trainConfig(flags: Flags): TrainConfig {
  const limit = flags.limit === undefined ? null : intFlag(flags.limit, 'limit', 0);
  if (limit === 0) throw new UsageError('--limit must be a positive integer');
  return {
    ...DEFAULT_CONFIG,
    epochs: intFlag(flags.epochs, 'epochs', DEFAULT_CONFIG.epochs),
    batchSize: intFlag(flags.batch, 'batch', DEFAULT_CONFIG.batchSize),
    lr: floatFlag(flags.lr, 'lr', DEFAULT_CONFIG.lr),
    seed: intFlag(flags.seed, 'seed', DEFAULT_CONFIG.seed),
    trainLimit: limit,
  };
}

export function runsDir(flags: Flags): string {
  return path.resolve((flags.out as string | undefined) ?? (flags.runs as string | undefined) ?? DEFAULT_RUNS);
}

export function parseScenario(value: string | boolean | undefined, flag: string): Scenario {
  if (typeof value === 'string' && (SCENARIOS as readonly string[]).includes(value)) return value as Scenario;
  throw new UsageError(`--${flag} must be one of ${SCENARIOS.join(', ')}, got "${String(value)}"`);
}

export function parseMode(value: string | boolean | undefined): Mode {
  if (typeof value === 'string' && (MODES as readonly string[]).includes(value)) return value as Mode;
  throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got "${String(value)}"`);
}
