/**
 * One training step of DDPM (Ho et al. 2020, algorithm 1) with the reference's class dropout:
 * for a batch of clean images x0, draw t ~ U{0..T-1}, eps ~ N(0, I) and a drop mask
 * ~ Bernoulli(p_uncond), and regress the network's output on eps (MSE) at
 * x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps. t, eps and the mask come from the trainer's generator,
 * in that order, so a resumed run continues exactly.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@dlcv/core';
import { conditionTensors } from './condition-tensors';
import type { UnetConfig } from './model';
import type { DDPMScheduler } from './schedulers';

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

/** Draws the noise of one step from `rng`, takes the optimizer step and returns the loss. */
export async function diffusionStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  noiser: DDPMScheduler,
  rng: Rng,
  batch: DiffusionBatch,
  unet: UnetConfig,
  pUncond: number,
): Promise<number> {
  const b = batch.labels.length;
  const T = noiser.config.num_train_timesteps;
  const ts = Array.from({ length: b }, () => rng.int(T));
  const eps = rng.normalArray(batch.x0.length);
  const drop = Array.from({ length: b }, () => (rng.next() < pUncond ? 1 : 0));
  const xt = noiser.addNoise(batch.x0, eps, ts);
  const cond = conditionTensors(ts, batch.labels, drop, T, unet.nClasses);
  const shape: [number, number, number, number] = [b, unet.imageSize, unet.imageSize, unet.inChannels];
  const xtT = tf.tensor4d(xt, shape);
  const epsT = tf.tensor4d(eps, shape);
  const lossT = trainingStep(model, optimizer, xtT, epsT, cond);
  const loss = (await lossT.data())[0] as number;
  tf.dispose([lossT, xtT, epsT, cond.t, cond.c, cond.mask]);
  return loss;
}
