/**
 * DDPM ancestral sampling (Ho et al. 2020), as diffusers' DDPMScheduler, for any subset of the
 * training timesteps: from x_t and the predicted x0,
 *
 *   mean = sqrt(a_prev) beta_t / (1 - a_t) * x0 + sqrt(alpha_t) (1 - a_prev) / (1 - a_t) * x_t
 *   var  = beta_t (fixed_large)  or  (1 - a_prev) / (1 - a_t) * beta_t (fixed_small)
 *
 * with a = alpha_bar, alpha_t = a_t / a_prev and beta_t = 1 - alpha_t over the jump t -> prev.
 * With every timestep and no clipping, mean is the reference's
 * 1/sqrt(alpha_t) (x_t - beta_t / sqrt(1 - a_t) eps). No noise is added on the last step.
 */
import { SchedulerBase, type StepUpdate } from './schedule';

export class DDPMScheduler extends SchedulerBase {
  static readonly className = 'DDPMScheduler';

  addsNoise(t: number): boolean {
    return this.previousTimestep(t) >= 0;
  }

  update(t: number): StepUpdate {
    const prev = this.previousTimestep(t);
    const a = this.alphaBar(t),
      aPrev = this.alphaBar(prev);
    const alpha = a / aPrev,
      beta = 1 - alpha;
    const variance = this.config.variance_type === 'fixed_large' ? beta : Math.max(((1 - aPrev) / (1 - a)) * beta, 1e-20);
    return {
      sqrtA: Math.sqrt(a),
      sqrt1mA: Math.sqrt(1 - a),
      x0: (Math.sqrt(aPrev) * beta) / (1 - a),
      xt: (Math.sqrt(alpha) * (1 - aPrev)) / (1 - a),
      eps: 0,
      noise: this.addsNoise(t) ? Math.sqrt(variance) : 0,
    };
  }

  /** The posterior q(x_prev | x_t, x0) of this step: its mean coefficients and variance (for tests and plots). */
  posterior(t: number): { coefX0: number; coefXt: number; variance: number } {
    const prev = this.previousTimestep(t);
    const a = this.alphaBar(t),
      aPrev = this.alphaBar(prev);
    const beta = 1 - a / aPrev;
    return {
      coefX0: (Math.sqrt(aPrev) * beta) / (1 - a),
      coefXt: (Math.sqrt(a / aPrev) * (1 - aPrev)) / (1 - a),
      variance: ((1 - aPrev) / (1 - a)) * beta,
    };
  }
}
