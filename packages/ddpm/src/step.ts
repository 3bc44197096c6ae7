/**
 * One training step of DDPM (Ho et al. 2020, algorithm 1) with the reference's class dropout:
 * for a batch of clean images x0, draw t ~ U{0..T-1}, eps ~ N(0, I) and a drop mask
 * ~ Bernoulli(p_uncond), and regress the network's output on eps (MSE) at
 * x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps. t, eps and the mask come from the trainer's generator,
 * in that order (step-draws.ts), so a resumed run continues exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { deferRunningStats } from '@dlcv/core';
import { tensorsOfConditions } from './condition-tensors';
import { conditionArrays, type ConditionArrays } from './conditioning';
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
  // the BatchNorm layers' running statistics move after the step, in one kernel
  return deferRunningStats(
    () => optimizer.minimize(() => tf.losses.meanSquaredError(eps, model.apply([xt, cond.t, cond.c, cond.mask], { training: true }) as tf.Tensor), true) as tf.Scalar,
  );
}

export interface DiffusionBatch {
  /** Clean images [B, S, S, C] in [-1, 1], flattened. */
  x0: Float32Array;
  labels: number[];
}

/** A step's inputs on the host: x_t, the noise and the condition arrays, before any engine work. */
export interface HostStepInputs {
  xt: Float32Array;
  eps: Float32Array;
  cond: ConditionArrays;
  nClasses: number;
  shape: [number, number, number, number];
}

/** x_t and the conditions of a batch under one step's draws (t, eps, the class-drop mask). */
export function hostStepInputs(noiser: DDPMScheduler, draws: StepDraws, batch: DiffusionBatch, unet: UnetConfig): HostStepInputs {
  const b = batch.labels.length;
  if (draws.ts.length !== b || draws.drop.length !== b || draws.eps.length !== batch.x0.length)
    throw new Error(`diffusionStep: draws for ${draws.ts.length} images (${draws.eps.length} noise values), a batch of ${b} (${batch.x0.length} values)`);
  return {
    xt: noiser.addNoise(batch.x0, draws.eps, draws.ts),
    eps: draws.eps,
    cond: conditionArrays(draws.ts, batch.labels, draws.drop, noiser.config.num_train_timesteps, unet.nClasses),
    nClasses: unet.nClasses,
    shape: [b, unet.imageSize, unet.imageSize, unet.inChannels],
  };
}

/**
 * The optimizer step on host inputs: uploads them, trains, and disposes them (so that the libtorch
 * engine can replay it: core's replayableStep). Returns the loss (the caller disposes it).
 */
export function diffusionStepOnHost(model: tf.LayersModel, optimizer: tf.Optimizer, inputs: HostStepInputs): tf.Scalar {
  const xt = tf.tensor4d(inputs.xt, inputs.shape);
  const eps = tf.tensor4d(inputs.eps, inputs.shape);
  const cond = tensorsOfConditions(inputs.cond, inputs.nClasses);
  const loss = trainingStep(model, optimizer, xt, eps, cond);
  tf.dispose([xt, eps, cond.t, cond.c, cond.mask]);
  return loss;
}

/**
 * Queues the optimizer step on the engine (by `step`, diffusionStepOnHost or a replayable form of
 * it) and returns the loss's read: on a GPU engine the caller's JavaScript (the next step's host
 * inputs) runs while the device trains.
 */
export function startDiffusionStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  inputs: HostStepInputs,
  step: (inputs: HostStepInputs) => tf.Scalar = (i) => diffusionStepOnHost(model, optimizer, i),
): Promise<number> {
  const lossT = step(inputs);
  return lossT
    .data()
    .then((values) => values[0] as number)
    .finally(() => lossT.dispose());
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
  return startDiffusionStep(model, optimizer, hostStepInputs(noiser, draws, batch, unet));
}
