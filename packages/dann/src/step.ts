/**
 * One optimisation step of each kind, shared by the trainer and the benchmark:
 * - labelled: cross-entropy on a labelled batch (the `source` and `target` bounds);
 * - dann: cross-entropy on the source batch + domain BCE on source and target features behind
 *   the gradient reversal, one backward pass, one Adam step over all three networks (the same as
 *   the report's three Adams with default settings: Adam is per parameter).
 * Source and target go through the feature extractor as one concatenated batch, so its
 * BatchNorm statistics cover both domains. The losses are core's: tf.losses' softmax and sigmoid
 * cross-entropies, one kernel each way on the native and libtorch engines (the same bits).
 */
import * as tf from '@tensorflow/tfjs';
import { sigmoidCrossEntropy, softmaxCrossEntropy, type Rng, type StepValue } from '@dlcv/core';
import { gradientReversal } from './grl';
import type { DannNet } from './model';
import { updateRunningStats, type BatchMoments } from './nn';

export interface StepLosses {
  classLoss: number;
  /** dann steps only */
  domainLoss?: number;
}

/** Reads the kept scalars, then frees them. */
async function readScalars(t: tf.Scalar[]): Promise<number[]> {
  const out = await Promise.all(t.map(async (s) => (await s.data())[0] as number));
  tf.dispose(t);
  return out;
}

/** The losses of queueLabelledStep's or queueDannStep's scalars, read off the main thread; frees them. */
export async function readStepLosses(t: tf.Scalar[]): Promise<StepLosses> {
  const [classLoss, domainLoss] = await readScalars(t);
  return { classLoss: classLoss as number, ...(domainLoss !== undefined ? { domainLoss } : {}) };
}

export async function labelledStep(net: DannNet, optimizer: tf.Optimizer, x: tf.Tensor4D, y: tf.Tensor1D, rng: Rng): Promise<StepLosses> {
  const [classLoss] = await readScalars(queueLabelledStep(net, optimizer, x, y, rng));
  return { classLoss: classLoss as number };
}

/** labelledStep's work on the engine, without reading it: [the class loss] (the caller reads and disposes it); replayable (core's replayableStep). */
export function queueLabelledStep(net: DannNet, optimizer: tf.Optimizer, x: tf.Tensor4D, y: tf.Tensor1D, rng: Rng): tf.Scalar[] {
  const moments: BatchMoments[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const opts = { training: true, rng, moments };
    const logits = net.classify(net.features(x, opts), opts);
    return softmaxCrossEntropy(tf.oneHot(y, net.config.classes), logits);
  }, net.trainable(false));
  optimizer.applyGradients(grads);
  tf.dispose(grads);
  updateRunningStats(moments);
  return [value];
}

export async function dannStep(net: DannNet, optimizer: tf.Optimizer, xs: tf.Tensor4D, ys: tf.Tensor1D, xt: tf.Tensor4D, lambda: number, rng: Rng): Promise<StepLosses> {
  const [classLoss, domainLoss] = await readScalars(queueDannStep(net, optimizer, xs, ys, xt, lambda, rng));
  return { classLoss: classLoss as number, domainLoss: domainLoss as number };
}

/**
 * dannStep's work on the engine, without reading it: [the class loss, the domain loss] (the
 * caller reads and disposes them); replayable (core's replayableStep) with lambda as a StepValue.
 */
export function queueDannStep(net: DannNet, optimizer: tf.Optimizer, xs: tf.Tensor4D, ys: tf.Tensor1D, xt: tf.Tensor4D, lambda: number | StepValue, rng: Rng): tf.Scalar[] {
  const moments: BatchMoments[] = [];
  const ns = xs.shape[0],
    nt = xt.shape[0];
  let parts: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const opts = { training: true, rng, moments };
    const f = net.features(tf.concat([xs, xt], 0), opts);
    const logits = net.classify(tf.slice(f, [0, 0], [ns, -1]), opts);
    const classLoss = softmaxCrossEntropy(tf.oneHot(ys, net.config.classes), logits);
    const domainLogits = net.domain(gradientReversal(f, lambda), opts);
    const domainLabels = tf.concat([tf.zeros([ns, 1]), tf.ones([nt, 1])], 0);
    const domainLoss = sigmoidCrossEntropy(domainLabels, domainLogits);
    parts = [tf.keep(classLoss), tf.keep(domainLoss)];
    return tf.add(classLoss, domainLoss) as tf.Scalar;
  }, net.trainable(true));
  optimizer.applyGradients(grads);
  tf.dispose(grads);
  updateRunningStats(moments);
  tf.dispose(value);
  return parts;
}

/** Adam with PyTorch's defaults (the report: "default" learning rate and betas). */
export function makeOptimizer(lr: number): tf.AdamOptimizer {
  return tf.train.adam(lr, 0.9, 0.999, 1e-8);
}
