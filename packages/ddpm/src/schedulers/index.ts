import { DDIMScheduler } from './ddim';
import { DDPMScheduler } from './ddpm';
import type { Scheduler, SchedulerConfig } from './schedule';

export * from './schedule';
export { DDPMScheduler } from './ddpm';
export { DDIMScheduler, type DDIMOptions } from './ddim';

export const SAMPLERS = ['ddpm', 'ddim'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** Either scheduler from one saved config (diffusers' `from_config`), with `steps` inference steps. */
export function makeScheduler(name: SamplerName, config: Partial<SchedulerConfig>, options: { steps?: number; eta?: number } = {}): Scheduler {
  const s = name === 'ddpm' ? new DDPMScheduler(config) : new DDIMScheduler(config, { eta: options.eta });
  s.setTimesteps(options.steps ?? s.config.num_train_timesteps);
  return s;
}

/** A scheduler as plain data (its kind, config and current timesteps), for another thread to rebuild. */
export interface SchedulerSpec {
  sampler: SamplerName;
  config: SchedulerConfig;
  timesteps: number[];
  eta: number;
}

/** The spec of a DDPM or DDIM scheduler (not of a subclass: its own code would not travel). */
export function schedulerSpec(s: Scheduler): SchedulerSpec {
  if (s instanceof DDPMScheduler && s.constructor === DDPMScheduler) return { sampler: 'ddpm', config: s.config, timesteps: [...s.timesteps], eta: 0 };
  if (s instanceof DDIMScheduler && s.constructor === DDIMScheduler) return { sampler: 'ddim', config: s.config, timesteps: [...s.timesteps], eta: s.eta };
  throw new Error(`schedulerSpec: ${s.constructor.name} is neither the DDPM nor the DDIM scheduler`);
}

/** The scheduler that `spec` describes, on its timesteps. */
export function schedulerFromSpec(spec: SchedulerSpec): Scheduler {
  const s = spec.sampler === 'ddpm' ? new DDPMScheduler(spec.config) : new DDIMScheduler(spec.config, { eta: spec.eta });
  s.timesteps = [...spec.timesteps];
  return s;
}
