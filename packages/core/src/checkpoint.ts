/**
 * Checkpoints: weights of any number of models, optimizer state, the run's config and its
 * progress (step, epoch, RNG states...), in one folder per step:
 *
 *   <runDir>/checkpoints/step-00001200/{tensors.bin, checkpoint.json}
 *   <runDir>/checkpoints/latest.json
 *
 * A checkpoint is written into a hidden temp folder, fsynced, then renamed into place, and only
 * then does latest.json (itself replaced atomically) point at it: a kill at any moment leaves the
 * previous checkpoint loadable. checkpoint.json holds the SHA-256 of tensors.bin so a damaged
 * file is caught on load. Plain files, no tfjs IO handlers: works on every engine.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { makeDir, writeFileAtomic, writeFileSynced } from './files';
import { checkJson, z } from './json-file';
import { entryTensor, groupEntries, restoreHolder, sha256, tensorEntrySchema, TensorPacker, type WeightsHolder } from './tensor-file';

export type { WeightsHolder } from './tensor-file';

export const CHECKPOINT_FORMAT = 'dlcv-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface CheckpointState {
  step: number;
  epoch: number;
  [key: string]: unknown;
}

export interface CheckpointContent {
  models: Record<string, WeightsHolder>;
  optimizers?: Record<string, tf.Optimizer>;
  /** The run's configuration (JSON), saved so a resumed run can check it matches. */
  config: unknown;
  state: CheckpointState;
}

const checkpointJsonSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(CHECKPOINT_VERSION),
  savedAt: z.string(),
  config: z.unknown(),
  state: z.looseObject({ step: z.number().int().nonnegative(), epoch: z.number().int().nonnegative() }),
  tensors: z.array(tensorEntrySchema),
  tensorsSha256: z.string(),
});
type CheckpointJson = z.infer<typeof checkpointJsonSchema>;

const latestJsonSchema = z.object({ dir: z.string().regex(/^step-\d{8}$/), step: z.number().int().nonnegative() });

export class CheckpointError extends Error {
  constructor(
    public readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

/** Adam/Adamax keep beta^t as variables (accBeta1, accBeta2) that getWeights() leaves out. */
function accumulatedPowers(optimizer: tf.Optimizer): [string, tf.Variable][] {
  const fields = optimizer as unknown as Record<string, unknown>;
  return ['accBeta1', 'accBeta2'].flatMap((f) => (fields[f] instanceof tf.Variable ? [[f, fields[f] as tf.Variable] as [string, tf.Variable]] : []));
}

export function checkpointsDir(runDir: string): string {
  return path.join(runDir, 'checkpoints');
}

const stepDirName = (step: number) => `step-${String(step).padStart(8, '0')}`;

export interface SaveCheckpointOptions {
  /** Keep this many newest checkpoints (default 3); older ones are deleted after the save. */
  keep?: number;
  /** Test hook: runs after the files are written, before the folder is renamed into place. */
  beforeCommit?: () => Promise<void> | void;
}

export async function saveCheckpoint(runDir: string, content: CheckpointContent, options: SaveCheckpointOptions = {}): Promise<string> {
  const { step } = content.state;
  if (!Number.isInteger(step) || step < 0) throw new Error(`saveCheckpoint: state.step must be a non-negative integer, got ${step}`);
  const root = checkpointsDir(runDir);
  await makeDir(root);

  const packer = new TensorPacker();
  for (const [modelName, holder] of Object.entries(content.models)) await packer.addHolder(`model:${modelName}`, holder);
  for (const [optName, optimizer] of Object.entries(content.optimizers ?? {})) {
    for (const { name, tensor } of await optimizer.getWeights()) {
      await packer.add(`optimizer:${optName}`, name, tensor);
      // getWeights() makes the iteration count a new tensor; the rest are the optimizer's live variables
      if (!(tensor instanceof tf.Variable)) tensor.dispose();
    }
    for (const [field, v] of accumulatedPowers(optimizer)) await packer.add(`optimizer-powers:${optName}`, field, v);
  }
  const { bin: tensorsBin, sha256: tensorsSha256 } = packer.finish();
  const json: CheckpointJson = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    savedAt: new Date().toISOString(),
    config: content.config,
    state: content.state,
    tensors: packer.entries,
    tensorsSha256,
  };

  const finalDir = path.join(root, stepDirName(step));
  const tmpDir = path.join(root, `.${stepDirName(step)}.tmp-${process.pid}`);
  await fs.rm(tmpDir, { recursive: true, force: true });
  await fs.mkdir(tmpDir);
  await writeFileSynced(path.join(tmpDir, 'tensors.bin'), tensorsBin);
  await writeFileSynced(path.join(tmpDir, 'checkpoint.json'), JSON.stringify(json, null, 1));
  await options.beforeCommit?.();
  // Re-saving the same step: move the old folder aside first (rename cannot replace a folder).
  const aside = `${finalDir}.old-${process.pid}`;
  const hadOld = await exists(finalDir);
  if (hadOld) await fs.rename(finalDir, aside);
  await fs.rename(tmpDir, finalDir);
  await syncDir(root);
  await writeFileAtomic(path.join(root, 'latest.json'), JSON.stringify({ dir: stepDirName(step), step }) + '\n');
  if (hadOld) await fs.rm(aside, { recursive: true, force: true });
  await prune(root, options.keep ?? 3, stepDirName(step));
  return finalDir;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on folders; the rename is still atomic.
  } finally {
    await handle.close();
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
}

async function prune(root: string, keep: number, current: string): Promise<void> {
  const names = (await fs.readdir(root)).filter((n) => /^step-\d{8}$/.test(n)).sort();
  const stale = names.slice(0, Math.max(0, names.length - keep)).filter((n) => n !== current);
  for (const n of stale) await fs.rm(path.join(root, n), { recursive: true, force: true });
  // Leftovers of saves killed midway.
  for (const n of await fs.readdir(root)) {
    if (/^\.step-\d{8}\.tmp-\d+$/.test(n) && !n.endsWith(`.tmp-${process.pid}`)) await fs.rm(path.join(root, n), { recursive: true, force: true });
  }
}

export interface LoadedCheckpoint {
  dir: string;
  config: unknown;
  state: CheckpointState;
}

async function readJsonText(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new CheckpointError(file, `unreadable checkpoint description (${(err as Error).message})`);
  }
}

/** checkpoint.json of a checkpoint folder, checked field by field. */
async function readCheckpointDescription(dir: string): Promise<CheckpointJson> {
  const jsonFile = path.join(dir, 'checkpoint.json');
  const value = await readJsonText(jsonFile);
  const format = (value as { format?: unknown } | null)?.format;
  const version = (value as { version?: unknown } | null)?.version;
  if (format !== CHECKPOINT_FORMAT || version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(jsonFile, `not a ${CHECKPOINT_FORMAT} v${CHECKPOINT_VERSION} file (format ${String(format)}, version ${String(version)})`);
  }
  return checkJson(value, checkpointJsonSchema, jsonFile, (file, problem) => new CheckpointError(file, problem));
}

async function readCheckpointJson(dir: string): Promise<{ json: CheckpointJson; bin: Buffer }> {
  const json = await readCheckpointDescription(dir);
  const binFile = path.join(dir, 'tensors.bin');
  let bin: Buffer;
  try {
    bin = await fs.readFile(binFile);
  } catch (err) {
    throw new CheckpointError(binFile, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (sha256(bin) !== json.tensorsSha256) throw new CheckpointError(binFile, 'damaged: its SHA-256 does not match checkpoint.json');
  return { json, bin };
}

/**
 * The checkpoint folder meant by `dirOrRun`: itself when it holds checkpoint.json, else the run
 * folder's latest checkpoint; a CheckpointError when there is neither.
 */
export async function resolveCheckpoint(dirOrRun: string, hint = ''): Promise<string> {
  if (await exists(path.join(dirOrRun, 'checkpoint.json'))) return dirOrRun;
  const latest = await findLatestCheckpoint(dirOrRun);
  if (!latest) throw new CheckpointError(dirOrRun, `no checkpoint found (neither a checkpoint folder nor a run folder with checkpoints/)${hint}`);
  return latest;
}

/** What a checkpoint says of its run, without loading any tensor: the config, the state, the weight groups. */
export async function readCheckpointInfo(dirOrRun: string): Promise<{ dir: string; config: unknown; state: CheckpointState; groups: string[] }> {
  const dir = await resolveCheckpoint(dirOrRun);
  const json = await readCheckpointDescription(dir);
  return { dir, config: json.config, state: json.state, groups: [...new Set(json.tensors.map((t) => t.group))] };
}

/** The newest complete checkpoint of a run, or undefined when there is none. */
export async function findLatestCheckpoint(runDir: string): Promise<string | undefined> {
  const root = checkpointsDir(runDir);
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch {
    return undefined;
  }
  try {
    const latest = latestJsonSchema.safeParse(JSON.parse(await fs.readFile(path.join(root, 'latest.json'), 'utf8')));
    if (latest.success && names.includes(latest.data.dir)) return path.join(root, latest.data.dir);
  } catch {
    // No or unreadable latest.json: fall back to the newest step folder.
  }
  const steps = names.filter((n) => /^step-\d{8}$/.test(n)).sort();
  const newest = steps[steps.length - 1];
  return newest ? path.join(root, newest) : undefined;
}

/**
 * Restores the given models and optimizers from a checkpoint folder (or a run folder, meaning
 * its latest checkpoint) and returns the saved config and state.
 */
export async function loadCheckpoint(dirOrRun: string, targets: { models: Record<string, WeightsHolder>; optimizers?: Record<string, tf.Optimizer> }): Promise<LoadedCheckpoint> {
  const dir = await resolveCheckpoint(dirOrRun);
  const { json, bin } = await readCheckpointJson(dir);
  const jsonFile = path.join(dir, 'checkpoint.json');
  const byGroup = groupEntries(json.tensors);
  for (const [modelName, holder] of Object.entries(targets.models)) {
    const saved = byGroup.get(`model:${modelName}`);
    if (!saved) throw new CheckpointError(jsonFile, `has no weights for model "${modelName}" (it has: ${[...byGroup.keys()].join(', ')})`);
    restoreHolder(holder, saved, bin, { what: `model "${modelName}"`, source: 'the checkpoint', fail: (problem) => new CheckpointError(jsonFile, problem) });
  }
  for (const [optName, optimizer] of Object.entries(targets.optimizers ?? {})) {
    const saved = byGroup.get(`optimizer:${optName}`);
    if (!saved) throw new CheckpointError(jsonFile, `has no state for optimizer "${optName}"`);
    await optimizer.setWeights(saved.map((e) => ({ name: e.name, tensor: entryTensor(bin, e) })));
    // setWeights recomputes beta^t with pow(), which differs in the last bit from the product
    // accumulated step by step; restoring the saved product makes a resumed run bit-exact.
    const powers = new Map((byGroup.get(`optimizer-powers:${optName}`) ?? []).map((e) => [e.name, e]));
    for (const [field, v] of accumulatedPowers(optimizer)) {
      const e = powers.get(field);
      if (e) {
        const t = entryTensor(bin, e);
        v.assign(t);
        t.dispose();
      }
    }
  }
  return { dir, config: json.config, state: json.state };
}
