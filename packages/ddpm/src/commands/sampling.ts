/**
 * What `sample`, `grid` and `reverse` share: the model folder, the sampler flags (defaulting to
 * what the saved model's preset chose) and the pipeline they make.
 */
import * as path from 'node:path';
import { flag, UsageError, type EngineInfo, type FlagValues, type PositionalSpec } from '@dlcv/core';
import { loadModelFolder } from '../model-io';
import { onnxNoiseNet } from '../onnx-net';
import { DiffusionPipeline } from '../pipeline';
import { GUIDED_FORWARDS, type GuidedForward, type SampleRequest } from '../sampler';
import { makeScheduler, SAMPLERS, type SamplerName } from '../schedulers';
import { StepWorkerPool } from '../step-workers';
import { defaultWorkerThreads } from '../worker-thread';

export const DEFAULT_MODEL_DIR = path.join('runs', 'ddpm-cpu', 'model');

export const RUNTIMES = ['tfjs', 'onnx'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Where guidance and the scheduler's update run (see device-sampler.ts). */
export const ARITHMETIC = ['host', 'device'] as const;
export type Arithmetic = (typeof ARITHMETIC)[number];

export const SAMPLING_FLAGS = {
  model: flag.path({ help: 'model folder written by `train`', default: DEFAULT_MODEL_DIR, metavar: 'DIR' }),
  sampler: flag.choice(SAMPLERS, { help: 'sampler', shown: "the model's" }),
  steps: flag.int({ help: 'sampling steps', min: 1, shown: "the model's (ddpm: its training timesteps; ddim: 50 when --sampler changes it)" }),
  w: flag.float({ help: 'guidance weight: eps = (1 + w) eps_cond - w eps_uncond', shown: "the model's" }),
  eta: flag.float({ help: "DDIM's eta (0: deterministic)", min: 0, shown: "the model's" }),
  seed: flag.int({ help: 'seed of the noises', default: 0, min: 0 }),
  batch: flag.int({ help: 'images per forward batch (does not change the images)', default: 100, min: 1 }),
  runtime: flag.choice(RUNTIMES, { help: 'run the U-Net through tfjs or ONNX Runtime', default: 'tfjs' }),
  arithmetic: flag.choice(ARITHMETIC, {
    help: "where guidance and the scheduler's update run: host (float64 per element, the same bytes on every engine for the same network output) or device (float32 tfjs ops, x stays on the engine's device; a pixel may differ by a level)",
    shown: 'device on a GPU engine with --runtime tfjs; else host',
  }),
  'guided-forward': flag.choice(GUIDED_FORWARDS, {
    help: "how guidance's two rows an image go through the U-Net: full (x twice through all of it, the reference's way) or shared (the down path, which does not read the class, once per image; the same function in fewer multiply-adds, a value may differ in its last bits)",
    shown: 'shared with --arithmetic device; else full',
  }),
  'step-workers': flag.int({
    help: "threads that run each image's noise, guidance and scheduler step, or with --arithmetic device its noise (0: the main thread; the images are the same)",
    min: 0,
    max: 64,
    shown: 'on a GPU engine the cores less one, at most 8; else 0',
  }),
};

/** --guided-forward's default: shared where the bytes of host arithmetic are not at stake. */
export function defaultGuidedForward(arithmetic: Arithmetic): GuidedForward {
  return arithmetic === 'device' ? 'shared' : 'full';
}

/** --arithmetic's default: on a GPU, only the noise then goes up each step. */
export function defaultArithmetic(engine: EngineInfo | undefined, runtime: Runtime): Arithmetic {
  return engine?.gpu && runtime === 'tfjs' ? 'device' : 'host';
}

export type SamplingFlags = FlagValues<typeof SAMPLING_FLAGS>;

export interface SamplingSetup {
  pipe: DiffusionPipeline;
  sampler: SamplerName;
  steps: number;
  w: number;
  eta: number;
  seed: number;
  batch: number;
  modelDir: string;
  runtime: Runtime;
  arithmetic: Arithmetic;
  guidedForward: GuidedForward;
  /** Samples a batch with the chosen arithmetic and step workers. */
  sample(req: Omit<SampleRequest, 'imageSteps'>): Promise<Float32Array>;
  describe: string;
  /** Releases the ONNX Runtime session and the step workers, if any. */
  close(): Promise<void>;
}

export async function openSampling(flags: SamplingFlags, engine?: EngineInfo): Promise<SamplingSetup> {
  const modelDir = flags.model;
  const loaded = await loadModelFolder(modelDir);
  const sampler: SamplerName = flags.sampler ?? loaded.sampling.sampler;
  const T = loaded.scheduler.num_train_timesteps;
  // A DDPM model folder trained with full chains keeps them; DDIM keeps its few steps.
  const fallbackSteps = flags.sampler !== undefined && sampler !== loaded.sampling.sampler ? (sampler === 'ddpm' ? T : 50) : loaded.sampling.steps;
  const steps = flags.steps ?? fallbackSteps;
  if (steps > T) throw new UsageError(`--steps must be in 1..${T} (the model's training timesteps), got ${steps}`);
  const w = flags.w ?? loaded.sampling.w;
  const eta = flags.eta ?? loaded.sampling.eta;
  const { seed, batch, runtime } = flags;
  const scheduler = makeScheduler(sampler, loaded.scheduler, { steps, eta });
  const arithmetic = flags.arithmetic ?? defaultArithmetic(engine, runtime);
  if (arithmetic === 'device' && runtime === 'onnx') throw new UsageError('--arithmetic device needs --runtime tfjs (the U-Net on the engine)');
  const guidedForward = flags['guided-forward'] ?? defaultGuidedForward(arithmetic);
  if (guidedForward === 'shared' && runtime === 'onnx') throw new UsageError('--guided-forward shared needs --runtime tfjs (ONNX Runtime runs the export in full)');
  // onnx: the same weights exported to ONNX and run by onnxruntime-node (see onnx-net.ts)
  const onnx = runtime === 'onnx' ? await onnxNoiseNet(loaded.model, loaded.unet) : null;
  const pipe = new DiffusionPipeline(onnx ?? loaded.model, scheduler, loaded.unet, guidedForward);
  const workers = flags['step-workers'] ?? defaultWorkerThreads(engine);
  const pool = workers > 0 ? new StepWorkerPool(workers) : null;
  const sample = (req: Omit<SampleRequest, 'imageSteps'>) =>
    arithmetic === 'device' ? pipe.sampleOnDevice(req, pool?.imageNoise) : pipe.sample({ ...req, imageSteps: pool?.imageSteps });
  const describe = `${sampler} ${steps} steps${sampler === 'ddim' ? `, eta ${eta}` : ''}, guidance w ${w}, seed ${seed}, ${runtime === 'onnx' ? 'ONNX Runtime' : 'tfjs'} (model ${modelDir}, n_feat ${loaded.unet.nFeat})${w !== 0 && guidedForward === 'shared' ? ', the down path once per image' : ''}${arithmetic === 'device' ? ', guidance and updates on the device' : ''}${workers > 0 ? `, ${arithmetic === 'device' ? 'noise' : 'image steps'} on ${workers} worker thread${workers > 1 ? 's' : ''}` : ''}`;
  const close = async () => {
    await pool?.close();
    await onnx?.dispose();
  };
  return { pipe, sampler, steps, w, eta, seed, batch, modelDir, runtime, arithmetic, guidedForward, sample, describe, close };
}

/** An output given as the command's argument or with --out. */
export function outputArgument(name: string, help: string, metavar: string): { positional: PositionalSpec; flag: ReturnType<typeof flag.path> } {
  return { positional: { name, help, optional: true, path: true }, flag: flag.path({ help: `${help} (instead of the argument)`, metavar }) };
}

/** The output named by the positional argument or by --out (one of the two). */
export function outputFrom(out: string | undefined, positionals: string[], what: string): string {
  const given = positionals[0] ?? out;
  if (!given) throw new UsageError(`give the ${what} (a positional argument or --out)`);
  if (positionals[0] !== undefined && out !== undefined) throw new UsageError(`give the ${what} once: as an argument or with --out, not both`);
  return given;
}
