/**
 * Scheduler configuration, with diffusers' names so that a `scheduler_config.json` written here
 * reads like one of theirs, and the noise schedule every scheduler derives from it. Pure
 * functions of the config: no model, no state beyond the chosen inference timesteps.
 *
 * Timesteps are 0-based as in diffusers: t = 0 .. num_train_timesteps-1, betas[t] the noise
 * added by forward step t, alphas_cumprod[t] = prod_{s<=t} (1 - betas[s]). The reference
 * (Conditional_Diffusion_MNIST) numbers them 1..n_T; its step i is our t = i - 1.
 */
import { describeIssues, z } from '@dlcv/core/browser';

export const BETA_SCHEDULES = ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const;
export const PREDICTION_TYPES = ['epsilon', 'sample', 'v_prediction'] as const;
export const TIMESTEP_SPACINGS = ['leading', 'trailing', 'linspace'] as const;
export const VARIANCE_TYPES = ['fixed_small', 'fixed_large'] as const;

/** The reference's schedule: linear betas 1e-4..0.02 over 400 steps, noise prediction. */
export const schedulerConfigSchema = z
  .object({
    /** n_T. The report and the reference: 400 (the reference's comment offers 500). */
    num_train_timesteps: z.number().int().min(2).default(400),
    beta_start: z.number().gt(0).default(1e-4),
    beta_end: z.number().lt(1).default(0.02),
    /** 'linear' as the reference; 'scaled_linear' (Stable Diffusion) and 'squaredcos_cap_v2' (Nichol & Dhariwal) for experiments. */
    beta_schedule: z.enum(BETA_SCHEDULES).default('linear'),
    /** What the network predicts: the noise (the reference), x0, or v (Salimans & Ho). */
    prediction_type: z.enum(PREDICTION_TYPES).default('epsilon'),
    /** Clip the predicted x0 to [-range, range] before using it (diffusers' default: on). */
    clip_sample: z.boolean().default(true),
    clip_sample_range: z.number().gt(0).default(1),
    /**
     * How `setTimesteps(n)` picks n of the training timesteps. 'trailing' (Lin et al. 2024)
     * starts sampling at t = T-1, the noise level the initial Gaussian actually matches; 'leading'
     * (diffusers' default) starts below it, which hurts with few steps.
     */
    timestep_spacing: z.enum(TIMESTEP_SPACINGS).default('trailing'),
    /** Added to 'leading' timesteps (diffusers' steps_offset). */
    steps_offset: z.number().int().min(0).default(0),
    /**
     * DDPM sampling variance: 'fixed_large' = beta_t (the reference's sqrt_beta_t * z),
     * 'fixed_small' = the posterior variance beta~_t (diffusers' default).
     */
    variance_type: z.enum(VARIANCE_TYPES).default('fixed_large'),
  })
  .refine((c) => c.beta_start <= c.beta_end, { message: 'need beta_start <= beta_end', path: ['beta_start'] });

export type SchedulerConfig = z.output<typeof schedulerConfigSchema>;

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = schedulerConfigSchema.parse({});

export class SchedulerConfigError extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'SchedulerConfigError';
  }
}

/**
 * Fills defaults and checks every field; `where` names the file (or flag) in errors. Unknown keys
 * (diffusers' `_class_name`, `_diffusers_version`, ...) are ignored.
 */
export function resolveSchedulerConfig(partial: Record<string, unknown>, where = 'scheduler config'): SchedulerConfig {
  const result = schedulerConfigSchema.safeParse(partial);
  if (!result.success) throw new SchedulerConfigError(where, describeIssues(result.error));
  return result.data;
}

/** betas[t], t = 0..T-1, in double precision. */
export function betasFor(c: SchedulerConfig): Float64Array {
  const T = c.num_train_timesteps;
  const out = new Float64Array(T);
  switch (c.beta_schedule) {
    case 'linear':
      // torch.linspace(beta_start, beta_end, T)
      for (let t = 0; t < T; t++) out[t] = c.beta_start + ((c.beta_end - c.beta_start) * t) / (T - 1);
      break;
    case 'scaled_linear': {
      const a = Math.sqrt(c.beta_start),
        b = Math.sqrt(c.beta_end);
      for (let t = 0; t < T; t++) out[t] = (a + ((b - a) * t) / (T - 1)) ** 2;
      break;
    }
    case 'squaredcos_cap_v2': {
      // Nichol & Dhariwal 2021: alpha_bar(s) = cos^2((s + 0.008) / 1.008 * pi / 2); beta capped at 0.999.
      const alphaBar = (s: number) => Math.cos(((s + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      for (let t = 0; t < T; t++) out[t] = Math.min(1 - alphaBar((t + 1) / T) / alphaBar(t / T), 0.999);
      break;
    }
  }
  return out;
}

/** alphas_cumprod[t] = prod_{s<=t} (1 - betas[s]). */
export function alphasCumprodFor(c: SchedulerConfig): Float64Array {
  const betas = betasFor(c);
  const out = new Float64Array(betas.length);
  let acc = 1;
  for (let t = 0; t < betas.length; t++) {
    acc *= 1 - (betas[t] as number);
    out[t] = acc;
  }
  return out;
}

/** numpy's round (half to even), which diffusers' spacing rules use. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The n inference timesteps, descending, as `timestep_spacing` picks them (diffusers' rules). */
export function inferenceTimesteps(c: SchedulerConfig, n: number): number[] {
  const T = c.num_train_timesteps;
  if (!Number.isInteger(n) || n < 1 || n > T) throw new SchedulerConfigError('setTimesteps', `the number of steps must be an integer in 1..${T} (num_train_timesteps), got ${n}`);
  const ts: number[] = [];
  switch (c.timestep_spacing) {
    case 'leading': {
      const ratio = Math.floor(T / n);
      for (let i = n - 1; i >= 0; i--) ts.push(Math.min(i * ratio + c.steps_offset, T - 1));
      break;
    }
    case 'trailing': {
      const ratio = T / n;
      for (let i = 0; i < n; i++) ts.push(roundHalfEven(T - i * ratio) - 1);
      break;
    }
    case 'linspace':
      for (let i = n - 1; i >= 0; i--) ts.push(n === 1 ? 0 : roundHalfEven((i * (T - 1)) / (n - 1)));
      break;
  }
  return ts;
}

/**
 * Predicted x0 and noise from the model output, per `prediction_type`, for one element, written
 * to into[0] and into[1]: the step loops pass one scratch array, so nothing is allocated per
 * element (a returned pair cost a 1000-image step ~40% of its time in allocation and GC).
 */
export function splitPrediction(type: SchedulerConfig['prediction_type'], out: number, xt: number, sqrtA: number, sqrt1mA: number, into: Float64Array): void {
  switch (type) {
    case 'epsilon':
      into[0] = (xt - sqrt1mA * out) / sqrtA;
      into[1] = out;
      return;
    case 'sample':
      into[0] = out;
      into[1] = (xt - sqrtA * out) / sqrt1mA;
      return;
    case 'v_prediction':
      // v = sqrt(a) eps - sqrt(1-a) x0  =>  x0 = sqrt(a) xt - sqrt(1-a) v, eps = sqrt(a) v + sqrt(1-a) xt
      into[0] = sqrtA * xt - sqrt1mA * out;
      into[1] = sqrtA * out + sqrt1mA * xt;
      return;
  }
}

/** Anything that draws standard normals: core's Rng, or a per-image set of them (see pipeline). */
export interface NoiseSource {
  normalArray(length: number): Float32Array;
}

export interface StepOutput {
  /** x at the next (lower) timestep. */
  prevSample: Float32Array;
  /** The model's estimate of x0 at this step (after clipping, when clip_sample is on). */
  predOriginalSample: Float32Array;
}

/**
 * A step's arithmetic as numbers: from the model output, x0 and eps by the config's
 * prediction_type with sqrtA = sqrt(a_t) and sqrt1mA = sqrt(1 - a_t) (splitPrediction), x0
 * clipped when clip_sample is on, then, with u = update(t),
 *   x_prev = u.x0 * x0 + u.xt * x_t + u.eps * eps + u.noise * z
 * (u.noise is 0 when the step adds no noise). step() evaluates it per element in float64; the
 * device sampler (device-sampler.ts) as float32 tensor ops.
 */
export interface StepUpdate {
  sqrtA: number;
  sqrt1mA: number;
  x0: number;
  xt: number;
  eps: number;
  noise: number;
}

/** What every scheduler offers (diffusers' SchedulerMixin interface, camel-cased). */
export interface Scheduler {
  readonly config: SchedulerConfig;
  /** The inference timesteps, descending; all training timesteps until setTimesteps is called. */
  readonly timesteps: readonly number[];
  setTimesteps(numInferenceSteps: number): void;
  /** Whether step(t) draws noise from its noise source (a source can then draw it ahead). */
  addsNoise(t: number): boolean;
  /** Step t's arithmetic as coefficients (see StepUpdate). */
  update(t: number): StepUpdate;
  /** One reverse step from timestep `t` (one of `timesteps`) for a batch flattened into `sample`. */
  step(modelOutput: Float32Array, t: number, sample: Float32Array, noise?: NoiseSource): StepOutput;
  /**
   * step() into given arrays, allocating nothing: x at the next timestep into `prevSample` (which
   * may be `sample` itself, or `modelOutput`: each element is read before it is written), the
   * predicted x0 into `predOriginalSample` when given. The values are step()'s.
   */
  stepInto(modelOutput: Float32Array, t: number, sample: Float32Array, noise: NoiseSource | undefined, prevSample: Float32Array, predOriginalSample?: Float32Array): void;
  /** q(x_t | x0) samples: sqrt(a_t) x0 + sqrt(1 - a_t) noise, with one t per item of the batch. */
  addNoise(x0: Float32Array, noise: Float32Array, timesteps: ArrayLike<number>): Float32Array;
}

/** Shared parts of the two schedulers: the schedule, the timestep bookkeeping, addNoise. */
export abstract class SchedulerBase implements Scheduler {
  readonly config: SchedulerConfig;
  readonly betas: Float64Array;
  readonly alphasCumprod: Float64Array;
  timesteps: readonly number[];

  constructor(config: Partial<SchedulerConfig> = {}) {
    this.config = resolveSchedulerConfig(config);
    this.betas = betasFor(this.config);
    this.alphasCumprod = alphasCumprodFor(this.config);
    this.timesteps = inferenceTimesteps({ ...this.config, timestep_spacing: 'leading', steps_offset: 0 }, this.config.num_train_timesteps);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.timesteps = inferenceTimesteps(this.config, numInferenceSteps);
  }

  /** The timestep after `t` in the current schedule, or -1 after the last one. */
  previousTimestep(t: number): number {
    const i = this.timesteps.indexOf(t);
    if (i < 0) throw new SchedulerConfigError('step', `timestep ${t} is not in the current schedule (${this.timesteps.length} steps; call setTimesteps first)`);
    return i + 1 < this.timesteps.length ? (this.timesteps[i + 1] as number) : -1;
  }

  /** alpha_bar at t, with alpha_bar(-1) = 1 (the clean image; diffusers' set_alpha_to_one). */
  alphaBar(t: number): number {
    if (t < 0) return 1;
    const a = this.alphasCumprod[t];
    if (a === undefined) throw new SchedulerConfigError('scheduler', `timestep ${t} outside 0..${this.alphasCumprod.length - 1}`);
    return a;
  }

  addNoise(x0: Float32Array, noise: Float32Array, timesteps: ArrayLike<number>): Float32Array {
    if (noise.length !== x0.length) throw new Error(`addNoise: x0 has ${x0.length} values, noise ${noise.length}`);
    const b = timesteps.length;
    if (b === 0 || x0.length % b !== 0) throw new Error(`addNoise: ${x0.length} values cannot be split into ${b} items`);
    const per = x0.length / b;
    const out = new Float32Array(x0.length);
    for (let i = 0; i < b; i++) {
      const a = this.alphaBar(timesteps[i] as number);
      const sa = Math.sqrt(a),
        s1 = Math.sqrt(1 - a);
      for (let j = i * per, end = j + per; j < end; j++) out[j] = sa * (x0[j] as number) + s1 * (noise[j] as number);
    }
    return out;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array, noise?: NoiseSource): StepOutput {
    const prevSample = new Float32Array(sample.length);
    const predOriginalSample = new Float32Array(sample.length);
    this.stepInto(modelOutput, t, sample, noise, prevSample, predOriginalSample);
    return { prevSample, predOriginalSample };
  }

  protected checkStepInto(modelOutput: Float32Array, sample: Float32Array, prevSample: Float32Array, predOriginalSample?: Float32Array): void {
    if (modelOutput.length !== sample.length) throw new Error(`step: model output has ${modelOutput.length} values, sample ${sample.length}`);
    if (prevSample.length !== sample.length) throw new Error(`step: prevSample has ${prevSample.length} values, sample ${sample.length}`);
    if (predOriginalSample && predOriginalSample.length !== sample.length)
      throw new Error(`step: predOriginalSample has ${predOriginalSample.length} values, sample ${sample.length}`);
  }

  protected clip(x0: number): number {
    if (!this.config.clip_sample) return x0;
    const r = this.config.clip_sample_range;
    return x0 < -r ? -r : x0 > r ? r : x0;
  }

  /** StepUpdate's formula, element by element in float64. */
  stepInto(modelOutput: Float32Array, t: number, sample: Float32Array, noise: NoiseSource | undefined, prevSample: Float32Array, predOriginalSample?: Float32Array): void {
    this.checkStepInto(modelOutput, sample, prevSample, predOriginalSample);
    const u = this.update(t);
    const z = this.addsNoise(t) ? drawNoise(noise, sample.length, `${(this.constructor as { className?: string }).className ?? 'scheduler'}.step`) : undefined;
    const type = this.config.prediction_type;
    const split = new Float64Array(2);
    for (let i = 0; i < sample.length; i++) {
      const xt = sample[i] as number;
      splitPrediction(type, modelOutput[i] as number, xt, u.sqrtA, u.sqrt1mA, split);
      const x0 = this.clip(split[0] as number);
      if (predOriginalSample) predOriginalSample[i] = x0;
      prevSample[i] = u.x0 * x0 + u.xt * xt + u.eps * (split[1] as number) + (z ? u.noise * (z[i] as number) : 0);
    }
  }

  abstract addsNoise(t: number): boolean;
  abstract update(t: number): StepUpdate;
}

/** `length` standard normals from the step's noise source; `where` names the step in errors. */
function drawNoise(noise: NoiseSource | undefined, length: number, where: string): Float32Array {
  if (!noise) throw new Error(`${where}: this step adds noise, so it needs a noise source (an Rng)`);
  const z = noise.normalArray(length);
  if (z.length !== length) throw new Error(`${where}: the noise source gave ${z.length} values for ${length}`);
  return z;
}
