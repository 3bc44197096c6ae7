/**
 * The few layers the DANN networks need, as plain functions over tf.Variables, with PyTorch's
 * semantics and initialisation (the report's networks are PyTorch modules):
 * - Conv2d / Linear weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn by core's
 *   torchDefaultValues (PyTorch's default kaiming_uniform(a=sqrt(5)) works out to that bound);
 * - BatchNorm: batch statistics in training (biased variance to normalise, unbiased variance
 *   into the running average), running statistics in evaluation, momentum 0.1, eps 1e-5;
 * - Dropout2d: whole channels zeroed per sample, survivors scaled by 1/(1-p).
 * Every random draw (init, dropout masks) comes from the caller's Rng, never from tfjs, so a
 * seed gives the same bytes on every engine. Tensors are NHWC, as tfjs wants.
 */
import * as tf from '@tensorflow/tfjs';
import { applyRunningStats, dropoutMask, batchNormTrain as fusedBatchNormTrain, fusedOpsRunDirect, torchDefaultValues, type Rng, type RunningStat } from '@dlcv/core';

export const BN_MOMENTUM = 0.1;
export const BN_EPS = 1e-5;

/** Where a layer's variables are registered, in creation order (the checkpoint order). */
export interface ParamStore {
  trainable: tf.Variable[];
  /** Running statistics: saved and restored, never given to the optimizer. */
  buffers: tf.Variable[];
}

/** A variable holding `init()`'s values; the initial tensor itself is released (the variable keeps its data). */
function variableOf(init: () => tf.Tensor, trainable: boolean, name: string): tf.Variable {
  return tf.tidy(() => tf.variable(init(), trainable, name));
}

/**
 * A weight or bias of a layer with this fan-in, PyTorch's default values drawn from `rng`. No rng:
 * zeros, for networks whose weights a saved model is about to overwrite (3.3M draws cost ~10 s).
 */
function torchDefaultVariable(rng: Rng | undefined, shape: number[], fanIn: number, name: string, store: ParamStore): tf.Variable {
  const size = shape.reduce((a, b) => a * b, 1);
  const v = variableOf(() => (rng ? tf.tensor(torchDefaultValues(rng, size, fanIn), shape, 'float32') : tf.zeros(shape)), true, name);
  store.trainable.push(v);
  return v;
}

export interface Conv2d {
  kernel: tf.Variable; // [kh, kw, in, out]
  bias: tf.Variable;
}

/** 3x3 "same" convolution, stride 1 (the report's Conv2d(k=3, padding=1)). */
export function conv2d(rng: Rng | undefined, store: ParamStore, name: string, inChannels: number, outChannels: number, kernelSize = 3): Conv2d {
  const fanIn = inChannels * kernelSize * kernelSize;
  return {
    kernel: torchDefaultVariable(rng, [kernelSize, kernelSize, inChannels, outChannels], fanIn, `${name}.weight`, store),
    bias: torchDefaultVariable(rng, [outChannels], fanIn, `${name}.bias`, store),
  };
}

// Where tf.fused's ops run as single kernels (core's engines), the bias goes into the convolution's
// kernel, whose gradient then leaves out the first layer's input gradient (the same bits as a
// separate Add there). Elsewhere a separate Add: tfjs's own fused conv2d computes that input
// gradient, which costs more than the Add saves.
export function applyConv2d(layer: Conv2d, x: tf.Tensor4D): tf.Tensor4D {
  if (fusedOpsRunDirect()) return tf.fused.conv2d({ x, filter: layer.kernel as tf.Tensor4D, strides: 1, pad: 'same', bias: layer.bias });
  return tf.add(tf.conv2d(x, layer.kernel as tf.Tensor4D, 1, 'same'), layer.bias);
}

export interface Linear {
  weight: tf.Variable; // [in, out]
  bias: tf.Variable;
}

export function linear(rng: Rng | undefined, store: ParamStore, name: string, inFeatures: number, outFeatures: number): Linear {
  return {
    weight: torchDefaultVariable(rng, [inFeatures, outFeatures], inFeatures, `${name}.weight`, store),
    bias: torchDefaultVariable(rng, [outFeatures], inFeatures, `${name}.bias`, store),
  };
}

// Bias folded into the matmul (tf.fused): one kernel instead of matmul + a broadcasting Add.
export function applyLinear(layer: Linear, x: tf.Tensor2D): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: layer.weight as tf.Tensor2D, bias: layer.bias }) as tf.Tensor2D;
}

export interface BatchNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

export function batchNorm(store: ParamStore, name: string, channels: number): BatchNorm {
  const gamma = variableOf(() => tf.ones([channels]), true, `${name}.weight`);
  const beta = variableOf(() => tf.zeros([channels]), true, `${name}.bias`);
  store.trainable.push(gamma, beta);
  const runningMean = variableOf(() => tf.zeros([channels]), false, `${name}.running_mean`);
  const runningVar = variableOf(() => tf.ones([channels]), false, `${name}.running_var`);
  store.buffers.push(runningMean, runningVar);
  return { gamma, beta, runningMean, runningVar };
}

/** Batch moments a training forward used, to fold into the running averages after the step. */
export interface BatchMoments {
  layer: BatchNorm;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D; // biased
  count: number;
}

/**
 * Normalises over every axis but the last. In training the batch moments are pushed to
 * `moments` (kept out of every tidy scope) for `updateRunningStats`, which disposes them.
 */
export function applyBatchNorm<T extends tf.Tensor>(layer: BatchNorm, x: T, training: boolean, moments?: BatchMoments[]): T {
  if (!training) {
    return tf.batchNorm(x, layer.runningMean, layer.runningVar, layer.beta, layer.gamma, BN_EPS) as T;
  }
  return batchNormTrain(layer, x, moments) as T;
}

/**
 * Training-mode batch norm through core's batchNormTrain: one fused native kernel forward and
 * backward on the native engine (tf.moments + tf.batchNorm elsewhere), normalising with the
 * biased batch variance; the batch moments go to `moments` for the running averages.
 */
function batchNormTrain(layer: BatchNorm, x: tf.Tensor, moments?: BatchMoments[]): tf.Tensor {
  const count = x.size / (x.shape[x.shape.length - 1] as number);
  const { y, mean, variance } = fusedBatchNormTrain(x, layer.gamma, layer.beta, BN_EPS);
  if (moments) moments.push({ layer, mean: tf.keep(mean), variance: tf.keep(variance), count });
  else tf.dispose([mean, variance]);
  return y;
}

/** A running statistic as core's running-statistics updates store it. */
const stored = (v: tf.Variable): RunningStat => ({ read: () => v, write: (t) => v.assign(t) });

/**
 * running = (1 - m) running + m batch, with the unbiased variance, as torch.nn.BatchNorm does:
 * core's applyRunningStats, as for its BatchNorm2d (every layer's mean and variance in one
 * kernel where the engine has it; a layer listed twice gets its updates one after the other).
 */
export function updateRunningStats(moments: BatchMoments[], momentum = BN_MOMENTUM): void {
  applyRunningStats(
    moments.map(({ layer, mean, variance, count }) => ({ layer, runningMean: stored(layer.runningMean), runningVar: stored(layer.runningVar), mean, variance, momentum, count })),
  );
  tf.dispose(moments.flatMap(({ mean, variance }) => [mean, variance]));
}

/**
 * Channel dropout mask [n, 1, 1, c] with values 0 or 1/(1-p), drawn from `rng` (core's
 * dropoutMask: by the engine's addon where it has the kernel, the same values everywhere; p
 * outside [0, 1) is an error).
 */
export function dropout2dMask(rng: Rng, n: number, channels: number, p: number): tf.Tensor4D {
  return dropoutMask(rng, [n, 1, 1, channels], p) as tf.Tensor4D;
}
