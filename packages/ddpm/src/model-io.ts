/**
 * A saved model is one folder with fixed names, complete and reloadable on its own:
 *
 *   config.json            the U-Net config (diffusers-style snake_case) and sampling defaults
 *   model.json             tfjs LayersModel topology + weights manifest (the standard tfjs format)
 *   weights.bin            float32 weights, in manifest order
 *   scheduler_config.json  the noise schedule (diffusers' DDPMScheduler keys)
 *
 * The folder is written beside its final place and renamed into it, so a reader never sees
 * half a model.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileSynced } from '@dlcv/core';
import { resolveSchedulerConfig, type SchedulerConfig } from './schedulers';
import { SAMPLERS, type SamplerName } from './schedulers';
import { validateUnetConfig, type UnetConfig } from './unet';
// Registers the custom layers with tfjs's deserialiser before any load.
import './layers/context-mask';
import './layers/film';
import './layers/group-norm';
import './layers/scaled-add';

export const MODEL_FORMAT = 'dlcv-ddpm-model';
export const MODEL_FORMAT_VERSION = 1;
export const MODEL_FILES = { config: 'config.json', topology: 'model.json', weights: 'weights.bin', scheduler: 'scheduler_config.json' } as const;

/** How the model samples unless told otherwise (the preset that trained it chose these). */
export interface SamplingDefaults {
  sampler: SamplerName;
  steps: number;
  /** Guidance weight. */
  w: number;
  /** DDIM's eta. */
  eta: number;
}

export interface SavedModelInfo {
  unet: UnetConfig;
  scheduler: SchedulerConfig;
  sampling: SamplingDefaults;
  /** Free-form facts about the training run (preset, steps, final loss, data). */
  training?: Record<string, unknown>;
}

export class ModelFolderError extends Error {
  constructor(public readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ModelFolderError';
  }
}

function configJson(info: SavedModelInfo): Record<string, unknown> {
  const u = info.unet;
  return {
    _class_name: 'ContextUnet',
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    n_feat: u.nFeat,
    in_channels: u.inChannels,
    n_classes: u.nClasses,
    image_size: u.imageSize,
    norm_num_groups: u.groups,
    sampling: info.sampling,
    training: info.training ?? {},
  };
}

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

/** Saves `model` (with the weights it holds now: pass the EMA copy) as a model folder. */
export async function saveModelFolder(dir: string, model: tf.LayersModel, info: SavedModelInfo): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts) throw new Error('saveModelFolder: tfjs produced no artifacts');
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [MODEL_FILES.weights], weights: artifacts.weightSpecs ?? [] }],
  };
  const scheduler = { _class_name: 'DDPMScheduler', ...info.scheduler };

  const final = path.resolve(dir);
  const tmp = `${final}.tmp-${process.pid}`;
  const aside = `${final}.old-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  await writeFileSynced(path.join(tmp, MODEL_FILES.config), `${JSON.stringify(configJson(info), null, 2)}\n`);
  await writeFileSynced(path.join(tmp, MODEL_FILES.topology), JSON.stringify(modelJson));
  await writeFileSynced(path.join(tmp, MODEL_FILES.weights), weightBytes(artifacts.weightData));
  await writeFileSynced(path.join(tmp, MODEL_FILES.scheduler), `${JSON.stringify(scheduler, null, 2)}\n`);
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

async function readJson(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelFolderError(file, code === 'ENOENT' ? 'not found (is this a model folder written by `dlcv-ddpm train`?)' : `cannot read (${code ?? String(err)})`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new ModelFolderError(file, `invalid JSON (${(err as Error).message})`);
  }
}

function parseSampling(v: unknown, file: string): SamplingDefaults {
  const s = (v ?? {}) as Partial<SamplingDefaults>;
  const sampler = s.sampler ?? 'ddpm';
  if (!SAMPLERS.includes(sampler)) throw new ModelFolderError(file, `sampling.sampler must be one of ${SAMPLERS.join(', ')}, got ${JSON.stringify(sampler)}`);
  const num = (x: unknown, name: string, fallback: number) => {
    if (x === undefined) return fallback;
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new ModelFolderError(file, `sampling.${name} must be a number, got ${JSON.stringify(x)}`);
    return x;
  };
  return { sampler, steps: num(s.steps, 'steps', 0), w: num(s.w, 'w', 0), eta: num(s.eta, 'eta', 0) };
}

export interface LoadedModel extends SavedModelInfo {
  model: tf.LayersModel;
  dir: string;
}

/** Loads a model folder; every problem is reported with the file it is in. */
export async function loadModelFolder(dir: string): Promise<LoadedModel> {
  const root = path.resolve(dir);
  const configFile = path.join(root, MODEL_FILES.config);
  const cfg = await readJson(configFile);
  if (cfg.format !== MODEL_FORMAT) throw new ModelFolderError(configFile, `not a ${MODEL_FORMAT} config (format ${JSON.stringify(cfg.format)})`);
  if (cfg.format_version !== MODEL_FORMAT_VERSION) throw new ModelFolderError(configFile, `format_version ${JSON.stringify(cfg.format_version)}; this version reads ${MODEL_FORMAT_VERSION}`);
  let unet: UnetConfig;
  try {
    unet = validateUnetConfig(
      { nFeat: cfg.n_feat, inChannels: cfg.in_channels, nClasses: cfg.n_classes, imageSize: cfg.image_size, groups: cfg.norm_num_groups } as UnetConfig,
      configFile,
    );
  } catch (err) {
    throw new ModelFolderError(configFile, (err as Error).message.replace(`${configFile}: `, ''));
  }
  const sampling = parseSampling(cfg.sampling, configFile);
  const schedulerFile = path.join(root, MODEL_FILES.scheduler);
  const scheduler = resolveSchedulerConfig(await readJson(schedulerFile), schedulerFile);
  if (sampling.steps === 0) sampling.steps = scheduler.num_train_timesteps;

  const topologyFile = path.join(root, MODEL_FILES.topology);
  const mj = await readJson(topologyFile);
  const manifest = mj.weightsManifest as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] | undefined;
  if (!mj.modelTopology || !Array.isArray(manifest) || manifest.length === 0) throw new ModelFolderError(topologyFile, 'no modelTopology or weightsManifest');
  const weightsFile = path.join(root, MODEL_FILES.weights);
  let bin: Buffer;
  try {
    bin = await fs.readFile(weightsFile);
  } catch (err) {
    throw new ModelFolderError(weightsFile, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const specs = manifest.flatMap((g) => g.weights);
  const bytesPer = (dtype: string | undefined) => (dtype === 'float32' || dtype === 'int32' || dtype === undefined ? 4 : NaN);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPer(s.dtype), 0);
  if (expected !== bin.length) throw new ModelFolderError(weightsFile, `holds ${bin.length} bytes, model.json's manifest needs ${expected}`);
  let model: tf.LayersModel;
  try {
    const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length);
    model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: mj.modelTopology as object, weightSpecs: specs, weightData }));
  } catch (err) {
    throw new ModelFolderError(topologyFile, `tfjs could not load it: ${(err as Error).message}`);
  }
  const xShape = (model.inputs[0]?.shape ?? []).slice(1).join('x');
  const want = `${unet.imageSize}x${unet.imageSize}x${unet.inChannels}`;
  if (model.inputs.length !== 4 || xShape !== want) {
    throw new ModelFolderError(topologyFile, `the network takes ${model.inputs.length} inputs with images ${xShape}, config.json says 4 inputs with images ${want}`);
  }
  return { model, dir: root, unet, scheduler, sampling, training: (cfg.training as Record<string, unknown> | undefined) ?? {} };
}
