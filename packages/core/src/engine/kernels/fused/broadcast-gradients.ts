// The stock Add, Sub, Multiply and RealDiv gradients without their no-op kernels, on the backends
// that have core's fused kernels (elsewhere the stock gradients run). tfjs's versions end each
// input's gradient in a Reshape to the input's shape, also where the gradient has that shape
// already (Add's and Sub's of an input of the output's shape; the sum over the broadcast axes of
// an input of the output's rank, which keepDims gives its shape directly), and Multiply and
// RealDiv cast the other input to float32 when it is float32 already. Each of those is a kernel
// call that changes no value: here they are left out and the remaining kernels run in the same
// order on the same inputs, so the gradients are the same bits. Where Add or Sub pass dy on
// unchanged, the gradient is still a tensor of its own (sharing dy's data), as tfjs's Reshape
// makes one: the backward pass sums and releases each input's gradient separately.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig } from '@tensorflow/tfjs';

import { sharingData } from '../../../nn/backward-pass';
import { ACT_GRAD } from './names';

/** A wrapped gradient keeps the stock one (for comparisons). */
export type WrappedBroadcastGradient = GradConfig & { __dlcvBroadcast?: boolean; __dlcvStock?: GradConfig };

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * dy (of the broadcast output's shape) summed over the axes that an input of `shape` was
 * broadcast along, as tfjs's sum; with keepDims where the ranks match, which gives `shape` itself.
 * Null where the input was not broadcast.
 */
function reduceFor(dy: tf.Tensor, shape: readonly number[]): tf.Tensor | null {
  const axes = tf.backend_util.getReductionAxes(shape as number[], dy.shape);
  return axes.length === 0 ? null : tf.sum(dy, axes, dy.rank === shape.length);
}

/**
 * t as an input's gradient of `shape`: reshaped only where its shape differs. `fresh`: t was made
 * for this input alone; else (dy passed on) a tensor sharing its data is returned, not t itself.
 */
function toShape(t: tf.Tensor, shape: readonly number[], fresh: boolean): tf.Tensor {
  if (!sameShape(t.shape, shape)) return tf.reshape(t, shape as number[]);
  return fresh ? t : sharingData(t);
}

/** dy summed to an input's shape, as tfjs's sum-then-reshape. */
function sumTo(dy: tf.Tensor, shape: readonly number[], fresh: boolean): tf.Tensor {
  const reduced = reduceFor(dy, shape);
  return toShape(reduced ?? dy, shape, fresh || reduced != null);
}

/** x as float32: x itself when it is float32 already (tfjs's cast would be an identity kernel). */
const asFloat = (x: tf.Tensor) => (x.dtype === 'float32' ? x : tf.cast(x, 'float32'));

const GRADIENTS: Record<string, (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => { a: () => tf.Tensor; b: () => tf.Tensor }> = {
  Add: (dy, a, b) => ({ a: () => sumTo(dy, a.shape, false), b: () => sumTo(dy, b.shape, false) }),
  // tfjs negates b's part after the sum and before the reshape
  Sub: (dy, a, b) => ({ a: () => sumTo(dy, a.shape, false), b: () => toShape(tf.neg(reduceFor(dy, b.shape) ?? dy), b.shape, true) }),
  Multiply: (dy, a, b) => ({ a: () => sumTo(tf.mul(dy, asFloat(b)), a.shape, true), b: () => sumTo(tf.mul(dy, asFloat(a)), b.shape, true) }),
  RealDiv: (dy, a, b) => ({
    a: () => sumTo(tf.div(dy, asFloat(b)), a.shape, true),
    b: () => tf.neg(tf.div(sumTo(tf.mul(dy, asFloat(a)), b.shape, true), asFloat(tf.square(b)))),
  }),
};

function wrap(kernelName: string): void {
  const orig = tf.getGradient(kernelName) as WrappedBroadcastGradient | undefined;
  const gradient = GRADIENTS[kernelName]!;
  if (!orig || orig.__dlcvBroadcast) return;
  const cfg: WrappedBroadcastGradient = {
    ...orig,
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      if (Array.isArray(dy) || tf.getKernel(ACT_GRAD, tf.getBackend()) == null) return orig.gradFunc(dy, saved, attrs);
      return gradient(dy, a, b);
    },
  };
  cfg.__dlcvBroadcast = true;
  cfg.__dlcvStock = orig;
  tf.registerGradient(cfg);
}

/** Wraps the four stock broadcasting gradients (once per tfjs instance). */
export function wrapBroadcastGradients(): void {
  for (const name of Object.keys(GRADIENTS)) wrap(name);
}
