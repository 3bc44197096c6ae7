/**
 * DDIM (Song et al. 2021, eq. 12), as diffusers' DDIMScheduler: from x_t and the predicted x0
 * and noise,
 *
 *   sigma  = eta * sqrt((1 - a_prev) / (1 - a_t)) * sqrt(1 - a_t / a_prev)
 *   x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev - sigma^2) eps + sigma z
 *
 * eta = 0 is deterministic; eta = 1 is DDPM's posterior variance. Few steps (20-50) give
 * images close to DDPM's 400, which is what makes sampling on a CPU affordable.
 */
import type { SchedulerConfig } from './schedule';
import { SchedulerBase, type StepUpdate } from './schedule';

export interface DDIMOptions {
  /** 0 = deterministic DDIM (default), 1 = DDPM-like stochastic steps. */
  eta?: number;
}

export class DDIMScheduler extends SchedulerBase {
  static readonly className = 'DDIMScheduler';
  readonly eta: number;

  constructor(config: Partial<SchedulerConfig> = {}, options: DDIMOptions = {}) {
    super(config);
    const eta = options.eta ?? 0;
    if (!(Number.isFinite(eta) && eta >= 0)) throw new Error(`DDIMScheduler: eta must be a number >= 0, got ${eta}`);
    this.eta = eta;
  }

  /** The step's noise scale: eta times DDPM's posterior standard deviation over the jump. */
  private sigma(t: number): number {
    const a = this.alphaBar(t),
      aPrev = this.alphaBar(this.previousTimestep(t));
    return this.eta * Math.sqrt(((1 - aPrev) / (1 - a)) * (1 - a / aPrev));
  }

  addsNoise(t: number): boolean {
    return this.sigma(t) > 0;
  }

  update(t: number): StepUpdate {
    const a = this.alphaBar(t),
      aPrev = this.alphaBar(this.previousTimestep(t));
    const sigma = this.sigma(t);
    return {
      sqrtA: Math.sqrt(a),
      sqrt1mA: Math.sqrt(1 - a),
      x0: Math.sqrt(aPrev),
      xt: 0,
      eps: Math.sqrt(Math.max(1 - aPrev - sigma * sigma, 0)),
      noise: sigma,
    };
  }
}
