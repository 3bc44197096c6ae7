/**
 * What the report page's live panel knows of each model: written by report.ts, read (and
 * checked) by live.ts in the browser. No TensorFlow.js here.
 */
import { z } from '@dlcv/core';
import { SAMPLERS, schedulerConfigSchema } from '../schedulers';

export const liveModelSchema = z.object({
  /** The run's name, also the ONNX model's name in the report. */
  name: z.string(),
  /** The model folder, for the equivalent `sample` command. */
  modelDir: z.string(),
  unet: z.object({ nFeat: z.number(), inChannels: z.number(), nClasses: z.number(), imageSize: z.number(), groups: z.number() }),
  scheduler: schedulerConfigSchema,
  sampling: z.object({ sampler: z.enum(SAMPLERS), steps: z.number().int().min(1), w: z.number(), eta: z.number().min(0) }),
});
export type LiveModel = z.infer<typeof liveModelSchema>;

export const liveConfigSchema = z.object({ models: z.array(liveModelSchema).min(1) });
export type LiveConfig = z.infer<typeof liveConfigSchema>;

/** One live request: what `sample` would be asked for, and which of its images. */
export interface LiveRequest {
  model: string;
  digit: number;
  /** The first image's number k (its file is <digit>_<k:03>.png; its noise id k - 1). */
  first: number;
  count: number;
  sampler: (typeof SAMPLERS)[number];
  steps: number;
  w: number;
  eta: number;
  seed: number;
}

/** The `dlcv-ddpm sample` command whose files <digit>_<first..first+count-1>.png these are (through ONNX Runtime, as the page runs). */
export function equivalentCommand(m: LiveModel, r: LiveRequest): string {
  const eta = r.sampler === 'ddim' ? ` --eta ${r.eta}` : '';
  return `dlcv-ddpm sample OUT --model ${m.modelDir} --sampler ${r.sampler} --steps ${r.steps} --w ${r.w}${eta} --seed ${r.seed} --runtime onnx`;
}

/** The file names `sample` gives the requested images. */
export function requestFiles(r: LiveRequest): string[] {
  return Array.from({ length: r.count }, (_, i) => `${r.digit}_${String(r.first + i).padStart(3, '0')}.png`);
}
