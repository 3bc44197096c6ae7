// Public fused ops. On a backend that registers our fused kernels (native, libtorch) each is one
// kernel forward and, where it has a gradient, one backward; on any other backend they are the
// equivalent tfjs compositions (same numbers).
import * as tf from '@tensorflow/tfjs';

import type { Rng } from '../../rng';
import { activeRecording } from '../torch/step-replay';
import { BCE_WITH_LOGITS, BN_TRAIN, DROPOUT_MASK, GELU, GROUP_NORM, RUNNING_AVERAGE, RUNNING_AVERAGES, SIGMOID_CE, SOFTMAX_CE } from '../kernels/fused/names';

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}

/**
 * Runs a fused loss kernel, whose outputs are the loss and the tensor its backward reads (the one
 * its tfjs composition saves): the tape keeps that one, the caller's reference is released.
 */
function fusedLoss(kernelName: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}): tf.Scalar {
  const [loss, savedForBackward] = tf.engine().runKernel(kernelName, inputs as never, attrs as never) as tf.Tensor[];
  savedForBackward!.dispose();
  return loss as tf.Scalar;
}

/** Exact (erf) GELU, as torch.nn.GELU(approximate='none'). */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (hasKernel(GELU) && x.dtype === 'float32') return tf.engine().runKernel(GELU, { x } as never, {}) as T;
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))))) as T;
}

/**
 * The mean binary cross-entropy of logits against a constant target (0 or 1): TensorFlow's
 * stable formula max(x, 0) - x t + log(1 + exp(-|x|)), the same function as BCELoss on
 * sigmoid(x), without log(0) once the sigmoid saturates. The tfjs composition below, or on a
 * backend with our fused kernels one kernel forward and one backward with that composition's bits
 * (kernels/fused/DlcvBceWithLogits.ts).
 */
export function binaryCrossEntropyWithLogits(logits: tf.Tensor, target: 0 | 1): tf.Scalar {
  if (target !== 0 && target !== 1) throw new Error(`binaryCrossEntropyWithLogits: target must be 0 or 1, got ${String(target)}`);
  if (hasKernel(BCE_WITH_LOGITS) && logits.dtype === 'float32' && logits.size > 0) return fusedLoss(BCE_WITH_LOGITS, { x: logits }, { target });
  return binaryCrossEntropyWithLogitsComposition(logits, target);
}

/** binaryCrossEntropyWithLogits as tfjs ops, on any backend (the fused kernels follow its bits). */
export function binaryCrossEntropyWithLogitsComposition(logits: tf.Tensor, target: 0 | 1): tf.Scalar {
  return tf.tidy(() => {
    const x = logits;
    const base = tf.add(tf.relu(x), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
    return tf.mean(target === 1 ? tf.sub(base, x) : base) as tf.Scalar;
  });
}

/** A loss's labels and logits must have one shape; else an error naming the loss and both shapes. */
function assertSameShape(loss: string, labels: tf.Tensor, logits: tf.Tensor): void {
  if (!tf.util.arraysEqual(labels.shape, logits.shape)) throw new Error(`${loss}: labels [${labels.shape.join(', ')}] and logits [${logits.shape.join(', ')}] differ in shape`);
}

/**
 * tf.losses.sigmoidCrossEntropy(labels, logits) with its defaults (no weights, no label
 * smoothing): the mean over elements. Labels are constants to the gradient. One kernel forward
 * and one backward with the tfjs loss's bits where the backend has our fused kernels
 * (kernels/fused/DlcvSigmoidCrossEntropy.ts), else the tfjs loss.
 */
export function sigmoidCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  assertSameShape('sigmoidCrossEntropy', labels, logits);
  if (hasKernel(SIGMOID_CE) && labels.dtype === 'float32' && logits.dtype === 'float32' && logits.size > 0) return fusedLoss(SIGMOID_CE, { labels, logits });
  return tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar;
}

/**
 * tf.losses.softmaxCrossEntropy(onehotLabels, logits) with its defaults (no weights, no label
 * smoothing) for [n, classes] tensors: the mean over rows. Labels (a one-hot of any dtype, taken
 * as float32) are constants to the gradient. One kernel forward and one backward with the tfjs
 * loss's bits where the backend has our fused kernels (kernels/fused/DlcvSoftmaxCrossEntropy.ts),
 * else the tfjs loss.
 */
export function softmaxCrossEntropy(onehotLabels: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  assertSameShape('softmaxCrossEntropy', onehotLabels, logits);
  return tf.tidy(() => {
    const labels = tf.cast(onehotLabels, 'float32');
    if (hasKernel(SOFTMAX_CE) && logits.rank === 2 && logits.dtype === 'float32' && logits.size > 0) return fusedLoss(SOFTMAX_CE, { labels, logits });
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  });
}

/**
 * Training-mode batch normalisation over every axis but the last (BatchNorm1d on [N, C],
 * BatchNorm2d on NHWC): y = (x - mean) / sqrt(var + eps) * scale + offset with the biased batch
 * variance, as PyTorch normalises. Returns the batch mean and biased variance too, for running
 * statistics; those two are treated as constants by the gradient (use them only for the running
 * averages, not in the loss).
 */
export function batchNormTrain(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, eps = 1e-5): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (hasKernel(BN_TRAIN) && x.dtype === 'float32') {
    const [y, mean, variance, invStd] = tf.engine().runKernel(BN_TRAIN, { x, scale, offset } as never, { eps } as never) as tf.Tensor[];
    invStd!.dispose();
    return { y: y!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  return tf.tidy(() => {
    const axes = x.shape.map((_, i) => i).slice(0, -1);
    const m = tf.moments(x, axes);
    // the gradient flows through the batch statistics inside y, as in the fused kernel's backward
    const y = tf.batchNorm(x, m.mean, m.variance, offset, scale, eps);
    return { y, mean: m.mean as tf.Tensor1D, variance: m.variance as tf.Tensor1D };
  });
}

/**
 * One step of a running average: running * keep + (value * scale) * take, the factors float32
 * scalars (`scale` optional). BatchNorm's running statistics: keep = 1 - momentum, take =
 * momentum, and for the variance scale = n / (n - 1). One kernel where the backend has it (no
 * gradient: use it for statistics, not in a loss), else the same ops as a tfjs composition.
 */
export function runningAverage<T extends tf.Tensor>(running: T, value: tf.Tensor, keep: tf.Scalar, take: tf.Scalar, scale?: tf.Scalar): T {
  if (!tf.util.arraysEqual(running.shape, value.shape))
    throw new Error(`runningAverage: running [${running.shape.join(', ')}] and value [${value.shape.join(', ')}] differ in shape`);
  const factors = scale ? [keep, take, scale] : [keep, take];
  if (factors.some((f) => f.rank !== 0)) throw new Error('runningAverage: keep, take and scale must be scalars');
  if (hasKernel(RUNNING_AVERAGE) && [running, value, ...factors].every((t) => t.dtype === 'float32')) {
    return tf.engine().runKernel(RUNNING_AVERAGE, (scale ? { running, value, keep, take, scale } : { running, value, keep, take }) as never, {}) as T;
  }
  return tf.tidy(() => tf.add(tf.mul(running, keep), tf.mul(scale ? tf.mul(value, scale) : value, take))) as T;
}

/**
 * One step of many running averages: runnings[i] * keep + (values[i] * scales[i]) * take
 * (`scales` optional, as runningAverage's `scale`: BatchNorm's n / (n - 1) for a variance, 1 for
 * a mean), the factors numbers taken as float32 scalars (as tf.scalar makes them). The same bits
 * as runningAverage on each pair with tf.scalar factors; one kernel for the whole list where the
 * backend has it (on libtorch a few ATen foreach ops), else that composition. No gradient.
 */
export function runningAverages<T extends tf.Tensor>(runnings: T[], values: tf.Tensor[], keep: number, take: number, scales?: number[]): T[] {
  if (runnings.length !== values.length) throw new Error(`runningAverages: ${runnings.length} running tensors, ${values.length} values`);
  if (scales && scales.length !== values.length) throw new Error(`runningAverages: ${scales.length} scales for ${values.length} values`);
  runnings.forEach((r, i) => {
    if (!tf.util.arraysEqual(r.shape, values[i]!.shape))
      throw new Error(`runningAverages: running ${i} [${r.shape.join(', ')}] and its value [${values[i]!.shape.join(', ')}] differ in shape`);
  });
  if (runnings.length === 0) return [];
  if (hasKernel(RUNNING_AVERAGES) && [...runnings, ...values].every((t) => t.dtype === 'float32')) {
    return tf.engine().runKernel(RUNNING_AVERAGES, [...runnings, ...values] as never, { keep, take, scales: scales ?? null } as never) as unknown as T[];
  }
  return tf.tidy(() => {
    const k = tf.scalar(keep),
      t = tf.scalar(take);
    return runnings.map((r, i) => runningAverage(r, values[i]!, k, t, scales ? tf.scalar(scales[i]!) : undefined));
  });
}

/**
 * torch.nn.GroupNorm for NHWC (or [N, C]) tensors: each sample's channels (last axis) are split
 * into `groups` contiguous groups, each normalised over its spatial positions and channels with
 * the biased variance, then scaled and shifted per channel.
 */
export function groupNorm<T extends tf.Tensor>(x: T, scale: tf.Tensor1D, offset: tf.Tensor1D, groups: number, eps = 1e-5): T {
  const c = x.shape[x.shape.length - 1]!;
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new Error(`groupNorm: ${c} channels cannot be split into ${groups} groups`);
  }
  if (x.rank < 2) throw new Error(`groupNorm: input must have a batch and a channel axis, got shape [${x.shape.join(', ')}]`);
  if (hasKernel(GROUP_NORM) && x.dtype === 'float32') {
    const [y, mean, invStd] = tf.engine().runKernel(GROUP_NORM, { x, scale, offset } as never, { groups, eps } as never) as tf.Tensor[];
    mean!.dispose();
    invStd!.dispose();
    return y as T;
  }
  return tf.tidy(() => {
    const n = x.shape[0]!;
    const grouped = x.reshape([n, -1, groups, c / groups]);
    const { mean, variance } = tf.moments(grouped, [1, 3], true);
    const normed = grouped
      .sub(mean)
      .mul(tf.rsqrt(variance.add(eps)))
      .reshape(x.shape);
    return normed.mul(scale).add(offset);
  }) as T;
}

/**
 * A dropout mask of `shape` from `rng`: each element, in order, 0 with probability p (when
 * rng.next() < p) and 1 / (1 - p) otherwise, stored as float32; `rng` ends past the draws (two
 * uint32 each). Drawn by the engine's addon where the backend has the kernel, else here: the
 * same values and the same state after either way.
 */
export function dropoutMask(rng: Rng, shape: number[], p: number): tf.Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`dropoutMask: p must be in [0, 1), got ${p}`);
  const size = tf.util.sizeFromShape(shape);
  const value = 1 / (1 - p);
  if (hasKernel(DROPOUT_MASK)) {
    const s = rng.getState();
    const state = [s.stateHi, s.stateLo, s.incHi, s.incLo];
    const mask = tf.engine().runKernel(DROPOUT_MASK, {}, { shape, state, p, value } as never) as tf.Tensor;
    rng.advance(2 * size);
    // a replayed step (engine/torch/step-replay.ts) draws the mask from its own Rng at this point
    activeRecording()?.hookLastCall('dropoutMask', {
      dynamic: [1],
      uses: [rng],
      replay: (context) => {
        const current = context.current(rng);
        const t = current.getState();
        current.advance(2 * size);
        return { args: [[t.stateHi, t.stateLo, t.incHi, t.incLo]] };
      },
    });
    return mask;
  }
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.next() < p ? 0 : value;
  return tf.tensor(values, shape);
}
