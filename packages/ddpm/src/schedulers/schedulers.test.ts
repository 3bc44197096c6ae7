import { Rng } from '@dlcv/core';
import {
  DDIMScheduler,
  DDPMScheduler,
  inferenceTimesteps,
  makeScheduler,
  resolveSchedulerConfig,
  schedulerFromSpec,
  schedulerSpec,
  SchedulerConfigError,
  type NoiseSource,
  type Scheduler,
  type SchedulerConfig,
} from '.';

// A 3-step schedule small enough to work by hand: betas 0.1, 0.2, 0.3.
const HAND: Partial<SchedulerConfig> = { num_train_timesteps: 3, beta_start: 0.1, beta_end: 0.3, clip_sample: false };
const HAND_ALPHA_BAR = [0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7];

/** A noise source that hands out fixed values and counts its draws. */
class FixedNoise implements NoiseSource {
  draws = 0;
  constructor(private readonly values: number[]) {}
  normalArray(length: number): Float32Array {
    this.draws++;
    return Float32Array.from({ length }, (_, i) => this.values[i % this.values.length] as number);
  }
}

const noNoise: NoiseSource = {
  normalArray() {
    throw new Error('this step must not draw noise');
  },
};

describe('noise schedule', () => {
  test('linear betas and alpha_bar match the hand computation', () => {
    const s = new DDPMScheduler(HAND);
    expect(Array.from(s.betas)).toEqual([expect.closeTo(0.1, 12), expect.closeTo(0.2, 12), expect.closeTo(0.3, 12)]);
    HAND_ALPHA_BAR.forEach((a, t) => expect(s.alphasCumprod[t]).toBeCloseTo(a, 12));
  });

  test('the default is the reference: 400 linear steps from 1e-4 to 0.02', () => {
    const s = new DDPMScheduler();
    expect(s.betas.length).toBe(400);
    expect(s.betas[0]).toBeCloseTo(1e-4, 15);
    expect(s.betas[399]).toBeCloseTo(0.02, 15);
    // Linear: constant increments of (0.02 - 1e-4) / 399.
    expect((s.betas[200] as number) - (s.betas[199] as number)).toBeCloseTo(0.0199 / 399, 15);
    // alpha_bar_T is tiny (x_T is nearly pure noise): exp(sum log(1 - beta)) ~ exp(-sum beta) = exp(-4.02).
    expect(s.alphasCumprod[399]).toBeGreaterThan(Math.exp(-4.02) * 0.95);
    expect(s.alphasCumprod[399]).toBeLessThan(Math.exp(-4.02));
  });

  test('squaredcos_cap_v2 follows alpha_bar(t) = f(t/T) / f(0), f(s) = cos^2((s + 0.008) / 1.008 * pi/2), while no beta is capped', () => {
    const s = new DDPMScheduler({ num_train_timesteps: 50, beta_schedule: 'squaredcos_cap_v2' });
    const f = (x: number) => Math.cos(((x + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [0, 10, 25, 40]) expect(s.alphasCumprod[t]).toBeCloseTo(f((t + 1) / 50) / f(0), 10);
    expect(s.betas[49]).toBeCloseTo(0.999, 12);
  });

  test('addNoise is sqrt(a_t) x0 + sqrt(1 - a_t) eps with one t per item', () => {
    const s = new DDPMScheduler(HAND);
    const x0 = Float32Array.from([1, -1, 0.5, 0.25]);
    const eps = Float32Array.from([0.3, 0.7, -2, 1]);
    const out = s.addNoise(x0, eps, [0, 2]);
    const [a0, a2] = [HAND_ALPHA_BAR[0] as number, HAND_ALPHA_BAR[2] as number];
    expect(out[0]).toBeCloseTo(Math.sqrt(a0) * 1 + Math.sqrt(1 - a0) * 0.3, 6);
    expect(out[1]).toBeCloseTo(Math.sqrt(a0) * -1 + Math.sqrt(1 - a0) * 0.7, 6);
    expect(out[2]).toBeCloseTo(Math.sqrt(a2) * 0.5 + Math.sqrt(1 - a2) * -2, 6);
    expect(out[3]).toBeCloseTo(Math.sqrt(a2) * 0.25 + Math.sqrt(1 - a2) * 1, 6);
    expect(() => s.addNoise(x0, eps, [0, 1, 2])).toThrow(/cannot be split into 3 items/);
  });
});

describe('timestep spacing (diffusers rules, numpy rounding)', () => {
  const T10 = resolveSchedulerConfig({ num_train_timesteps: 10 });
  test('hand examples for T = 10, n = 3', () => {
    expect(inferenceTimesteps({ ...T10, timestep_spacing: 'leading' }, 3)).toEqual([6, 3, 0]);
    // arange(10, 0, -10/3) = 10, 6.67, 3.33 -> round -> 10, 7, 3 -> minus 1
    expect(inferenceTimesteps({ ...T10, timestep_spacing: 'trailing' }, 3)).toEqual([9, 6, 2]);
    // linspace(0, 9, 3) = 0, 4.5, 9: numpy rounds 4.5 to 4
    expect(inferenceTimesteps({ ...T10, timestep_spacing: 'linspace' }, 3)).toEqual([9, 4, 0]);
    expect(inferenceTimesteps({ ...T10, timestep_spacing: 'leading', steps_offset: 1 }, 3)).toEqual([7, 4, 1]);
  });

  test('trailing with 20 of 400 steps starts at the last timestep', () => {
    const ts = inferenceTimesteps(resolveSchedulerConfig({}), 20);
    expect(ts).toEqual(Array.from({ length: 20 }, (_, i) => 399 - 20 * i));
  });

  test('every spacing with n = T is every timestep, descending', () => {
    for (const spacing of ['leading', 'trailing', 'linspace'] as const) {
      expect(inferenceTimesteps({ ...T10, timestep_spacing: spacing }, 10)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    }
  });

  test('a step count outside 1..T is an error that says so', () => {
    expect(() => inferenceTimesteps(T10, 11)).toThrow(/integer in 1\.\.10/);
    expect(() => new DDPMScheduler(HAND).setTimesteps(0)).toThrow(SchedulerConfigError);
  });
});

describe('DDPM step', () => {
  test('posterior mean and variance of q(x_{t-1} | x_t, x0) match Ho et al. eq. 7 by hand', () => {
    const s = new DDPMScheduler(HAND);
    // t = 2 (0-based): a_t = 0.504, a_prev = 0.72, beta_t = 0.3, alpha_t = 0.7.
    const post = s.posterior(2);
    expect(post.coefX0).toBeCloseTo((Math.sqrt(0.72) * 0.3) / (1 - 0.504), 12);
    expect(post.coefXt).toBeCloseTo((Math.sqrt(0.7) * (1 - 0.72)) / (1 - 0.504), 12);
    expect(post.variance).toBeCloseTo(((1 - 0.72) / (1 - 0.504)) * 0.3, 12);
    // t = 0: the previous state is the clean image, so the posterior is x0 itself.
    const last = s.posterior(0);
    expect(last.coefX0).toBeCloseTo(1, 12);
    expect(last.coefXt).toBeCloseTo(0, 12);
    expect(last.variance).toBeCloseTo(0, 12);
  });

  test('step = posterior mean from the predicted x0 + sqrt(posterior variance) z (fixed_small)', () => {
    const s = new DDPMScheduler({ ...HAND, variance_type: 'fixed_small' });
    const xt = Float32Array.from([0.4, -1.2]);
    const eps = Float32Array.from([0.5, -0.25]);
    const z = new FixedNoise([1.5, -0.5]);
    const out = s.step(eps, 2, xt, z);
    const a = 0.504;
    for (let i = 0; i < 2; i++) {
      const x0 = ((xt[i] as number) - Math.sqrt(1 - a) * (eps[i] as number)) / Math.sqrt(a);
      expect(out.predOriginalSample[i]).toBeCloseTo(x0, 5);
      const mean = ((Math.sqrt(0.72) * 0.3) / (1 - a)) * x0 + ((Math.sqrt(0.7) * 0.28) / (1 - a)) * (xt[i] as number);
      expect(out.prevSample[i]).toBeCloseTo(mean + Math.sqrt((0.28 / (1 - a)) * 0.3) * [1.5, -0.5][i]!, 5);
    }
    expect(z.draws).toBe(1);
  });

  test('with every timestep, fixed_large and no clipping it is the reference update 1/sqrt(alpha) (x - beta / sqrt(1 - a) eps) + sqrt(beta) z', () => {
    const s = new DDPMScheduler({ variance_type: 'fixed_large', clip_sample: false });
    const rng = new Rng(3);
    const xt = rng.normalArray(16),
      eps = rng.normalArray(16);
    for (const t of [399, 200, 1]) {
      const z = new FixedNoise([0.7, -1.1, 0.2]);
      const out = s.step(eps, t, xt, z).prevSample;
      const beta = s.betas[t] as number,
        a = s.alphasCumprod[t] as number;
      for (let i = 0; i < 16; i++) {
        const ref = (1 / Math.sqrt(1 - beta)) * ((xt[i] as number) - (beta / Math.sqrt(1 - a)) * (eps[i] as number)) + Math.sqrt(beta) * [0.7, -1.1, 0.2][i % 3]!;
        expect(out[i]).toBeCloseTo(ref, 4);
      }
    }
  });

  test('the last step adds no noise, and clip_sample bounds the predicted x0', () => {
    const s = new DDPMScheduler({ ...HAND, clip_sample: true });
    const out = s.step(Float32Array.from([-5, 5]), 0, Float32Array.from([0, 0]), noNoise);
    // x0 = (0 - sqrt(0.1) * -5) / sqrt(0.9) = 1.67 -> clipped to 1; the last step returns x0.
    expect(Array.from(out.predOriginalSample)).toEqual([1, -1]);
    expect(Array.from(out.prevSample)).toEqual([expect.closeTo(1, 6), expect.closeTo(-1, 6)]);
  });

  test('a timestep outside the schedule is refused', () => {
    const s = makeScheduler('ddpm', HAND, { steps: 2 });
    // trailing: arange(3, 0, -1.5) = 3, 1.5 -> round half to even -> 3, 2 -> minus 1
    expect(s.timesteps).toEqual([2, 1]);
    expect(() => s.step(new Float32Array(1), 0, new Float32Array(1), noNoise)).toThrow(/timestep 0 is not in the current schedule/);
  });
});

describe('DDIM step', () => {
  const trueNoiseRun = (config: Partial<SchedulerConfig>, steps: number, predict: (x0: Float32Array, eps: Float32Array, t: number, s: DDIMScheduler) => Float32Array) => {
    const s = new DDIMScheduler(config, { eta: 0 });
    s.setTimesteps(steps);
    const rng = new Rng(11);
    const x0 = rng.uniformArray(64, -1, 1);
    const eps = rng.normalArray(64);
    let x = s.addNoise(x0, eps, new Array(64).fill(s.timesteps[0]));
    for (const t of s.timesteps) x = s.step(predict(x0, eps, t, s), t, x, noNoise).prevSample;
    return { x, x0 };
  };

  test('eta = 0 given the true noise at every step lands exactly on x0', () => {
    for (const steps of [1, 10, 400]) {
      const { x, x0 } = trueNoiseRun({ clip_sample: false }, steps, (_x0, eps) => eps);
      x.forEach((v, i) => expect(v).toBeCloseTo(x0[i] as number, 4));
    }
  });

  test('the same holds for x0- and v-prediction given their true targets', () => {
    const { x: xs, x0 } = trueNoiseRun({ prediction_type: 'sample' }, 10, (x0v) => x0v);
    xs.forEach((v, i) => expect(v).toBeCloseTo(x0[i] as number, 4));
    const { x: xv, x0: x0b } = trueNoiseRun({ prediction_type: 'v_prediction' }, 10, (x0v, eps, t, s) => {
      const a = s.alphaBar(t);
      return Float32Array.from(eps, (e, i) => Math.sqrt(a) * e - Math.sqrt(1 - a) * (x0v[i] as number));
    });
    xv.forEach((v, i) => expect(v).toBeCloseTo(x0b[i] as number, 4));
  });

  test('eta = 1 uses the DDPM posterior variance, drawing noise once per step', () => {
    const ddim = new DDIMScheduler(HAND, { eta: 1 });
    const ddpm = new DDPMScheduler(HAND);
    const z = new FixedNoise([1]);
    const zero = new Float32Array(1);
    // With x_t = 0 and eps = 0 the output is sigma * z alone.
    const out = ddim.step(zero, 2, zero, z).prevSample;
    expect(out[0]).toBeCloseTo(Math.sqrt(ddpm.posterior(2).variance), 6);
    expect(z.draws).toBe(1);
  });

  test('eta must be a non-negative number', () => {
    expect(() => new DDIMScheduler({}, { eta: -1 })).toThrow(/eta must be a number >= 0/);
  });
});

describe('either step', () => {
  test.each([
    ['DDPMScheduler', () => new DDPMScheduler(HAND)],
    ['DDIMScheduler', () => new DDIMScheduler(HAND, { eta: 1 })],
  ])('%s: a step that adds noise needs a source giving one value an element, and says so by name', (name, make) => {
    const s = make();
    const x = new Float32Array(3);
    expect(() => s.step(x, 2, x)).toThrow(`${name}.step: this step adds noise, so it needs a noise source (an Rng)`);
    const short: NoiseSource = { normalArray: () => new Float32Array(2) };
    expect(() => s.step(x, 2, x, short)).toThrow(`${name}.step: the noise source gave 2 values for 3`);
    // the last step adds none, so no source is asked for
    expect(() => s.step(x, 0, x)).not.toThrow();
  });
});

describe('config', () => {
  test('diffusers keys round-trip and unknown keys like _class_name are ignored', () => {
    const c = resolveSchedulerConfig({ _class_name: 'DDPMScheduler', num_train_timesteps: 500 } as Record<string, unknown>);
    expect(c.num_train_timesteps).toBe(500);
    expect(c.beta_schedule).toBe('linear');
    expect(Object.keys(c)).not.toContain('_class_name');
  });

  test('a bad field is named with the file it came from', () => {
    expect(() => resolveSchedulerConfig({ beta_schedule: 'cosine' as never }, 'm/scheduler_config.json')).toThrow(
      /^m\/scheduler_config\.json: beta_schedule: Invalid option: expected one of "linear"\|"scaled_linear"\|"squaredcos_cap_v2"$/,
    );
    expect(() => resolveSchedulerConfig({ beta_start: 0.5, beta_end: 0.1 })).toThrow(/beta_start <= beta_end/);
    expect(() => resolveSchedulerConfig({ num_train_timesteps: 1.5 })).toThrow(/^scheduler config: num_train_timesteps: Invalid input: expected int, received number$/);
    expect(() => resolveSchedulerConfig({ clip_sample: 'yes' })).toThrow(/clip_sample: Invalid input: expected boolean, received string/);
  });
});

describe('scheduler spec (for the step workers)', () => {
  test.each([
    ['ddpm', { steps: 7 }],
    ['ddim', { steps: 5, eta: 0.5 }],
  ] as const)('%s rebuilt from its spec steps the same, through JSON', (name, options) => {
    const config = { num_train_timesteps: 40, prediction_type: 'v_prediction' as const, timestep_spacing: 'trailing' as const };
    const s = makeScheduler(name, config, options);
    const copy = schedulerFromSpec(JSON.parse(JSON.stringify(schedulerSpec(s))));
    expect(copy).toBeInstanceOf(s.constructor);
    expect(copy.timesteps).toEqual(s.timesteps);
    const rng = new Rng(3);
    const x = rng.normalArray(12),
      out = rng.normalArray(12);
    for (const t of s.timesteps) expect(copy.step(out, t, x, new FixedNoise([0.3, -1])).prevSample).toEqual(s.step(out, t, x, new FixedNoise([0.3, -1])).prevSample);
    // timesteps set by hand (not by setTimesteps) travel too
    (s as DDPMScheduler).timesteps = [30, 3];
    expect(schedulerFromSpec(schedulerSpec(s)).timesteps).toEqual([30, 3]);
  });

  test('another scheduler class, a subclass included, is refused by name', () => {
    class Custom extends DDPMScheduler {}
    expect(() => schedulerSpec(new Custom())).toThrow('schedulerSpec: Custom is neither the DDPM nor the DDIM scheduler');
    expect(() => schedulerSpec({ ...new DDIMScheduler() } as unknown as Scheduler)).toThrow('schedulerSpec: Object is neither');
  });
});
