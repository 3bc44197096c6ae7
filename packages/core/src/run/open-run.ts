/**
 * Opening a training run: the one resume policy of every trainer.
 *
 * - A run folder that holds checkpoints is continued only when asked (`resume`); otherwise the
 *   run refuses to start rather than mix two runs.
 * - Resuming reads the saved config first and refuses, naming each changed setting, unless the
 *   trainer lists that setting as one that may change (the checkpoint interval, say). Then the
 *   weights and optimizer state load, and the saved state (step, RNG states...) comes back.
 * - `resume` with no checkpoint yet starts a fresh run, so a script can always pass it.
 * - metrics.jsonl keeps exactly the steps the checkpoint covers (a crash may have logged more);
 *   a fresh run starts it empty. config.json records the run's config, commands.jsonl the
 *   commands that worked in the folder (command-log.ts).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { findLatestCheckpoint, loadCheckpoint, readCheckpointInfo, saveCheckpoint, type CheckpointState, type SaveCheckpointOptions, type WeightsHolder } from '../checkpoint';
import { makeDir, writeFileAtomic } from '../files';
import { checkJson, type z } from '../json-file';
import { MetricsLog, readMetrics } from '../metrics';
import { logCommandStart } from './command-log';
import { configDifferences } from './config-diff';
import { InputsFailedError } from './guards';
import { InterruptedError, watchStopSignals } from './interrupt';

export interface RunSetup<S extends CheckpointState> {
  runDir: string;
  /** The run's settings (JSON): saved in every checkpoint and in config.json. */
  config: unknown;
  /** Config keys (dotted for nested ones) that a resumed run may change. */
  mayChange?: readonly string[];
  /** Continue the run folder's latest checkpoint, if it has one. */
  resume: boolean;
  models: Record<string, WeightsHolder>;
  optimizers?: Record<string, tf.Optimizer>;
  /** The state of a fresh run. */
  initialState: S;
  /** Checks the state read back from a checkpoint. */
  stateSchema: z.ZodType<S>;
  log?: (message: string) => void;
}

export interface TrainingRun<S extends CheckpointState> {
  /** Set once SIGINT or SIGTERM asked the run to stop (see interrupt.ts); the trainer then saves and calls `interrupted`. */
  readonly stopSignal: NodeJS.Signals | undefined;
  readonly runDir: string;
  /** The restored state, or the initial one. */
  readonly state: S;
  /** The checkpoint folder the run continued from. */
  readonly resumedFrom?: string;
  readonly metrics: MetricsLog;
  /** Saves a checkpoint of the run's models and optimizers (plus `extraModels`) with `state`. */
  save(state: S, options?: SaveCheckpointOptions & { extraModels?: Record<string, WeightsHolder> }): Promise<string>;
  /** The error to end an interrupted run with, after its checkpoint at `step` (saved in `checkpoint`). */
  interrupted(step: number, checkpoint: string): InterruptedError;
  /**
   * The inputs of the step after `step`, awaited. When they fail to load (an unreadable image, a
   * file gone), the steps trained so far are checkpointed first: by `save` (which returns the
   * folder, or the last good one while a trainer holds checkpoints back), unless the run's newest
   * checkpoint is already at `step`. The error then says where they are kept.
   */
  takeInputs<T>(inputs: Promise<T>, step: number, save: () => Promise<string | undefined>): Promise<T>;
  /** Stops watching for signals. */
  close(): void;
}

export const METRICS_FILE = 'metrics.jsonl';
export const RUN_CONFIG_FILE = 'config.json';

/** Cuts metrics.jsonl back to the records of steps up to `step` (a corrupt file is an error naming its line, never emptied). */
async function keepCoveredMetrics(file: string, step: number): Promise<void> {
  if (
    !(await fs.stat(file).then(
      () => true,
      () => false,
    ))
  )
    return;
  const { records } = await readMetrics<Record<string, unknown>>(file);
  const kept = records.filter((r) => typeof r.step !== 'number' || r.step <= step);
  await writeFileAtomic(file, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

export async function openRun<S extends CheckpointState>(setup: RunSetup<S>): Promise<TrainingRun<S>> {
  const { runDir, config, models, optimizers } = setup;
  const log = setup.log ?? (() => undefined);
  const existing = await findLatestCheckpoint(runDir);
  if (existing && !setup.resume) throw new Error(`${runDir} already holds checkpoints (${path.basename(existing)}): pass --resume to continue that run, or choose another --out`);
  let state = setup.initialState;
  const metricsFile = path.join(runDir, METRICS_FILE);
  if (existing) {
    // Settings first: weights of another width would otherwise fail to load with a shape error
    // that does not say which setting changed.
    const saved = await readCheckpointInfo(existing);
    const changed = configDifferences(saved.config, config, setup.mayChange);
    if (changed.length)
      throw new Error(
        `${existing}: the run was made with other settings (${changed.join('; ')}); resume with the same flags, choose another --out, or delete ${runDir} to start over`,
      );
    state = checkJson(saved.state, setup.stateSchema, path.join(existing, 'checkpoint.json'));
    const loaded = await loadCheckpoint(existing, { models, optimizers });
    await keepCoveredMetrics(metricsFile, state.step);
    log(`resumed from ${loaded.dir} at step ${state.step}`);
  } else {
    if (setup.resume) log(`no checkpoint in ${runDir} yet: starting a fresh run`);
    await makeDir(runDir);
    await fs.rm(metricsFile, { force: true });
  }
  await writeFileAtomic(path.join(runDir, RUN_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  // the newest checkpoint of the run: the one it continued from, until it saves one
  let lastSaved = { step: state.step, dir: existing };
  const logEnd = await logCommandStart(runDir, state.step);
  const stop = watchStopSignals('training');
  return {
    runDir,
    state,
    resumedFrom: existing,
    metrics: new MetricsLog(metricsFile),
    get stopSignal() {
      return stop.signal;
    },
    save: async (s, options = {}) => {
      const dir = await saveCheckpoint(runDir, { models: { ...models, ...options.extraModels }, optimizers, config, state: s }, options);
      lastSaved = { step: s.step, dir };
      return dir;
    },
    interrupted: (step, checkpoint) =>
      new InterruptedError(
        stop.signal ?? 'SIGINT',
        `interrupted by ${stop.signal ?? 'a signal'} after step ${step}; checkpoint ${checkpoint}; continue with the same command and --resume`,
      ),
    takeInputs: async (inputs, step, save) => {
      try {
        return await inputs;
      } catch (err) {
        const checkpoint = step === lastSaved.step ? lastSaved.dir : await save();
        throw new InputsFailedError(err as Error, step, checkpoint);
      }
    },
    close: () => {
      stop.release();
      try {
        logEnd();
      } catch {
        // The end line is a record for reports; failing to write it must not fail the run.
      }
    },
  };
}
