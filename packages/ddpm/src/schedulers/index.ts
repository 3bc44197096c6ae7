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
