/**
 * A trained model as one folder with fixed names, complete and reloadable on its own (in the
 * manner of diffusers' save_pretrained), the same for every package:
 *
 *   config.json     what builds the network: `_class_name`, `format`, `format_version` and the
 *                   package's fields (checked by its schema on load)
 *   weights.bin     the weights, float32/int32, in the network's weight order
 *   weights.json    the index of weights.bin (group, name, shape, dtype, offset) and its SHA-256
 *   <other>.json    further configs a package keeps beside the model (scheduler_config.json)
 *
 * The folder is written beside its final place and renamed into it, so a reader never sees
 * half a model. Loading reads config.json first, lets the package build the architecture from
 * it, then restores the weights by position and shape.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makeDir, writeFileSynced } from './files';
import { checkJson, readJsonFile, z } from './json-file';
import { groupEntries, restoreHolder, sha256, tensorEntrySchema, TensorPacker, type WeightsHolder } from './tensor-file';

export const MODEL_FILES = { config: 'config.json', weights: 'weights.bin', index: 'weights.json' } as const;

export class ModelFolderError extends Error {
  constructor(
    public readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ModelFolderError';
  }
}

/** What a package's model folders are: their format name, version and config schema. */
export interface ModelFolderKind<C> {
  /** `dlcv-ddpm-model`. */
  format: string;
  version: number;
  /** The network's class, as config.json's `_class_name`. */
  className: string;
  /** The package's fields of config.json. */
  configSchema: z.ZodType<C>;
  /** The command that writes such folders, for the error on a missing one. */
  writtenBy: string;
}

const indexSchema = z.object({ tensors: z.array(tensorEntrySchema), sha256: z.string() });

export interface SaveModelFolderOptions<C> {
  config: C;
  /** The networks' weights by group name (one group for most models). */
  weights: Record<string, WeightsHolder>;
  /** Further JSON files: name -> content. */
  files?: Record<string, unknown>;
}

export async function saveModelFolder<C>(dir: string, kind: ModelFolderKind<C>, options: SaveModelFolderOptions<C>): Promise<void> {
  const packer = new TensorPacker();
  for (const [group, holder] of Object.entries(options.weights)) await packer.addHolder(group, holder);
  const { bin, sha256: digest } = packer.finish();
  const config = { _class_name: kind.className, format: kind.format, format_version: kind.version, ...options.config };

  const final = path.resolve(dir);
  const tmp = `${final}.tmp-${process.pid}`;
  const aside = `${final}.old-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await makeDir(tmp);
  await writeFileSynced(path.join(tmp, MODEL_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
  await writeFileSynced(path.join(tmp, MODEL_FILES.weights), bin);
  await writeFileSynced(path.join(tmp, MODEL_FILES.index), `${JSON.stringify({ tensors: packer.entries, sha256: digest })}\n`);
  for (const [name, content] of Object.entries(options.files ?? {})) await writeFileSynced(path.join(tmp, name), `${JSON.stringify(content, null, 2)}\n`);
  let hadOld = false;
  try {
    await fs.rename(final, aside);
    hadOld = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.rename(tmp, final);
  if (hadOld) await fs.rm(aside, { recursive: true, force: true });
}

const modelFolderError = (file: string, problem: string) => new ModelFolderError(file, problem);

/** Reads a model folder's config.json, checked against the package's schema. */
export async function readModelConfig<C>(dir: string, kind: ModelFolderKind<C>): Promise<C> {
  const file = path.join(path.resolve(dir), MODEL_FILES.config);
  const header = await readJsonFile(file, z.looseObject({ format: z.unknown(), format_version: z.unknown() }), {
    missing: `not found (is this a model folder written by \`${kind.writtenBy}\`?)`,
    makeError: modelFolderError,
  });
  if (header.format !== kind.format) throw new ModelFolderError(file, `not a ${kind.format} config (format ${JSON.stringify(header.format)})`);
  if (header.format_version !== kind.version)
    throw new ModelFolderError(file, `format_version ${JSON.stringify(header.format_version)}; this version reads ${kind.version} (retrain with \`${kind.writtenBy}\`)`);
  return checkJson(header, kind.configSchema, file, modelFolderError);
}

/** Reads one further JSON file of the folder against its schema. */
export async function readModelFile<S extends z.ZodType>(dir: string, name: string, schema: S): Promise<z.output<S>> {
  return readJsonFile(path.join(path.resolve(dir), name), schema, { makeError: modelFolderError });
}

/** Restores the folder's weights into networks built from its config (same group names as saved). */
export async function loadModelWeights(dir: string, targets: Record<string, WeightsHolder>): Promise<void> {
  const root = path.resolve(dir);
  const indexFile = path.join(root, MODEL_FILES.index);
  const weightsFile = path.join(root, MODEL_FILES.weights);
  const index = await readModelFile(root, MODEL_FILES.index, indexSchema);
  let bin: Buffer;
  try {
    bin = await fs.readFile(weightsFile);
  } catch (err) {
    throw new ModelFolderError(weightsFile, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (sha256(bin) !== index.sha256) throw new ModelFolderError(weightsFile, `damaged: its SHA-256 does not match ${MODEL_FILES.index}`);
  const byGroup = groupEntries(index.tensors);
  for (const [group, holder] of Object.entries(targets)) {
    const saved = byGroup.get(group);
    if (!saved) throw new ModelFolderError(indexFile, `has no weights for "${group}" (it has: ${[...byGroup.keys()].join(', ')})`);
    restoreHolder(holder, saved, bin, { what: `"${group}"`, source: 'the model folder', fail: (problem) => new ModelFolderError(indexFile, problem) });
  }
}
