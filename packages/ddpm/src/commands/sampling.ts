/**
 * What `sample`, `grid` and `reverse` share: the model folder, the sampler flags (defaulting to
 * what the saved model's preset chose) and the pipeline they make.
 */
import * as path from 'node:path';
import { floatFlag, intFlag, UsageError, type FlagSpec } from '@dlcv/core';
import { loadModelFolder } from '../model-io';
import { onnxNoiseNet } from '../onnx-net';
import { DiffusionPipeline } from '../pipeline';
import { makeScheduler, SAMPLERS, type SamplerName } from '../schedulers';

export const DEFAULT_MODEL_DIR = path.join('runs', 'ddpm-cpu', 'model');

export const SAMPLING_FLAGS = {
  model: { type: 'string' },
  sampler: { type: 'string' },
  steps: { type: 'string' },
  w: { type: 'string' },
  eta: { type: 'string' },
  seed: { type: 'string' },
  batch: { type: 'string' },
  runtime: { type: 'string' },
} as const satisfies FlagSpec;

export const RUNTIMES = ['tfjs', 'onnx'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const SAMPLING_USAGE = '[--model runs/ddpm-cpu/model] [--sampler ddpm|ddim] [--steps N] [--w X] [--eta X] [--seed 0] [--batch 100] [--runtime tfjs|onnx]';

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
  describe: string;
  /** Releases the ONNX Runtime session, if any. */
  close(): Promise<void>;
}

export async function openSampling(flags: Record<string, string | boolean | undefined>): Promise<SamplingSetup> {
  const modelDir = path.resolve((flags.model as string | undefined) ?? DEFAULT_MODEL_DIR);
  const loaded = await loadModelFolder(modelDir);
  const sampler = ((flags.sampler as string | undefined) ?? loaded.sampling.sampler) as SamplerName;
  if (!SAMPLERS.includes(sampler)) throw new UsageError(`--sampler must be one of ${SAMPLERS.join(', ')}, got "${sampler}"`);
  const T = loaded.scheduler.num_train_timesteps;
  // A DDPM model folder trained with full chains keeps them; DDIM keeps its few steps.
  const fallbackSteps = flags.sampler !== undefined && sampler !== loaded.sampling.sampler ? (sampler === 'ddpm' ? T : 50) : loaded.sampling.steps;
  const steps = intFlag(flags.steps, 'steps', fallbackSteps);
  if (steps < 1 || steps > T) throw new UsageError(`--steps must be in 1..${T} (the model's training timesteps), got ${steps}`);
  const w = floatFlag(flags.w, 'w', loaded.sampling.w);
  const eta = floatFlag(flags.eta, 'eta', loaded.sampling.eta);
  if (eta < 0) throw new UsageError(`--eta must be >= 0, got ${eta}`);
  const seed = intFlag(flags.seed, 'seed', 0);
  const batch = intFlag(flags.batch, 'batch', 100);
  if (batch < 1) throw new UsageError('--batch must be at least 1');
  const runtime = ((flags.runtime as string | undefined) ?? 'tfjs') as Runtime;
  if (!RUNTIMES.includes(runtime)) throw new UsageError(`--runtime must be one of ${RUNTIMES.join(', ')}, got "${runtime}"`);
  const scheduler = makeScheduler(sampler, loaded.scheduler, { steps, eta });
  // onnx: the same weights exported to ONNX and run by onnxruntime-node (see onnx-net.ts)
  const onnx = runtime === 'onnx' ? await onnxNoiseNet(loaded.model, loaded.unet) : null;
  const pipe = new DiffusionPipeline(onnx ?? loaded.model, scheduler, loaded.unet);
  const describe = `${sampler} ${steps} steps${sampler === 'ddim' ? `, eta ${eta}` : ''}, guidance w ${w}, seed ${seed}, ${runtime === 'onnx' ? 'ONNX Runtime' : 'tfjs'} (model ${modelDir}, n_feat ${loaded.unet.nFeat})`;
  return { pipe, sampler, steps, w, eta, seed, batch, modelDir, runtime, describe, close: async () => onnx?.dispose() };
}

export function outDirFrom(flags: Record<string, string | boolean | undefined>, positionals: string[], what: string): string {
  const out = (flags.out as string | undefined) ?? positionals[0];
  if (!out) throw new UsageError(`give the ${what} (a positional argument or --out)`);
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  return path.resolve(out);
}
