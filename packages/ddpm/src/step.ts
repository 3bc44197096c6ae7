/**
 * One training step of DDPM (Ho et al. 2020, algorithm 1) with the reference's class dropout:
 * for a batch of clean images x0, draw t ~ U{0..T-1}, eps ~ N(0, I) and a drop mask
 * ~ Bernoulli(p_uncond), and regress the network's output on eps (MSE) at
 * x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps. t, eps and the mask come from the trainer's generator,
 * in that order (step-draws.ts), so a resumed run continues exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { conditionTensors } from './condition-tensors';
import type { UnetConfig } from './model';
import type { DDPMScheduler } from './schedulers';
import type { StepDraws } from './step-draws';

/**
 * The optimizer step on given x_t, eps and conditions: the MSE between the true noise and the
 * network's prediction, minimised by `optimizer`. Returns the loss (the caller disposes it).
 */
export function trainingStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  xt: tf.Tensor4D,
  eps: tf.Tensor4D,
  cond: { t: tf.Tensor2D; c: tf.Tensor2D; mask: tf.Tensor2D },
): tf.Scalar {
  return optimizer.minimize(() => tf.losses.meanSquaredError(eps, model.apply([xt, cond.t, cond.c, cond.mask], { training: true }) as tf.Tensor), true) as tf.Scalar;
}

export interface DiffusionBatch {
  /** Clean images [B, S, S, C] in [-1, 1], flattened. */
  x0: Float32Array;
  labels: number[];
}

/** The optimizer step on a batch with one step's draws (t, eps, the class-drop mask); returns the loss. */
export async function diffusionStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  noiser: DDPMScheduler,
  draws: StepDraws,
  batch: DiffusionBatch,
  unet: UnetConfig,
): Promise<number> {
  const b = batch.labels.length;
  if (draws.ts.length !== b || draws.drop.length !== b || draws.eps.length !== batch.x0.length)
    throw new Error(`diffusionStep: draws for ${draws.ts.length} images (${draws.eps.length} noise values), a batch of ${b} (${batch.x0.length} values)`);
  const T = noiser.config.num_train_timesteps;
  const xt = noiser.addNoise(batch.x0, draws.eps, draws.ts);
  const cond = conditionTensors(draws.ts, batch.labels, draws.drop, T, unet.nClasses);
  const shape: [number, number, number, number] = [b, unet.imageSize, unet.imageSize, unet.inChannels];
  const xtT = tf.tensor4d(xt, shape);
  const epsT = tf.tensor4d(draws.eps, shape);
  const lossT = trainingStep(model, optimizer, xtT, epsT, cond);
  const loss = (await lossT.data())[0] as number;
  tf.dispose([lossT, xtT, epsT, cond.t, cond.c, cond.mask]);
  return loss;
}
