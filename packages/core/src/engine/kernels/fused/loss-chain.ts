// The device-op chains of the fused losses (DlcvBceWithLogits, DlcvSigmoidCrossEntropy,
// DlcvSoftmaxCrossEntropy). Each loss kernel runs, op for op, the device ops that its tfjs
// composition runs through tfjs's kernels and gradients, so its values are the composition's
// bits on every engine. (Where other terms of a loss also reach the same logits, their gradients
// are added to the loss kernel's sum, not to its parts one by one: the same sum, rounded
// perhaps differently in the last bit.) Reshapes share data there, so here they are views: a
// TensorInfo with the same data id and another shape.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';

import type { BinaryOp, DeviceOps, ReduceOp, UnaryOp } from '../device-ops';

type T = TensorInfo;

/** Runs device ops, keeping what it makes until end() disposes all but the results. */
export class LossChain {
  private readonly made: T[] = [];
  constructor(private readonly ops: DeviceOps) {}

  unary(op: UnaryOp, x: T, alpha = 0): T {
    return this.keep(this.ops.unary(op, x, alpha, 0));
  }
  /** Relu's gradient of dy at x (the wrapped stock gradient's DlcvActivationGrad). */
  reluGrad(dy: T, x: T): T {
    return this.keep(this.ops.unaryGrad('Relu', dy, x, 0));
  }
  binary(op: BinaryOp, a: T, b: T): T {
    return this.keep(this.ops.binary(op, a, b, tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape)));
  }
  /** A constant scalar, as tfjs makes the number operand of add or div. */
  scalar(value: number): T {
    return this.keep(this.ops.fill([], value));
  }
  /** x reduced over `axes` (keepDims as tfjs's reductions). */
  reduce(op: ReduceOp, x: T, axes: number[], keepDims = false): T {
    const shape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d)).filter((_, i) => keepDims || !axes.includes(i));
    return this.keep(this.ops.reduce(op, x, axes, shape));
  }
  /** Sum or Mean over every axis. */
  reduceAll(op: ReduceOp, x: T): T {
    return this.reduce(
      op,
      x,
      x.shape.map((_, i) => i),
    );
  }
  /**
   * The gradient of a reduction over every axis of a tensor of `shape` (reduction-gradients.ts,
   * before Mean's divide): dy as that rank, tiled to `shape` (tf.broadcastTo: a clone for one
   * element).
   */
  broadcastBack(dy: T, shape: number[]): T {
    const kept = view(
      dy,
      shape.map(() => 1),
    );
    return this.keep(tf.util.sizeFromShape(shape) === 1 ? this.ops.clone(kept) : this.ops.tile(kept, shape, shape));
  }
  keep(t: T): T {
    this.made.push(t);
    return t;
  }
  /** Disposes everything made but the results, and returns them. */
  end<R extends T | T[]>(results: R): R {
    const kept = new Set<T>(Array.isArray(results) ? results : [results]);
    for (const t of this.made) if (!kept.has(t)) this.ops.dispose(t);
    return results;
  }
}

/** t's data as `shape` (tf.reshape's result: the same data). */
export function view(t: T, shape: number[]): T {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** exp(-|x|), as the compositions make it (Abs, Neg, Exp). */
export function expNegAbs(c: LossChain, x: T): T {
  return c.unary('Exp', c.unary('Neg', c.unary('Abs', x)));
}

/**
 * The part of the gradient of log1p(e), e = exp(-|x|), that reaches x, for the gradient g of
 * log1p(e): Log1p's g / (e + 1), Exp's times e, Neg's negation, Abs's times step(x, -1).
 */
export function log1pExpNegAbsGrad(c: LossChain, g: T, x: T, e: T): T {
  const throughLog1p = c.binary('RealDiv', g, c.binary('Add', e, c.scalar(1)));
  const throughNeg = c.unary('Neg', c.binary('Multiply', throughLog1p, e));
  return c.binary('Multiply', throughNeg, c.unary('Step', x, -1));
}

/**
 * The gradient config of a fused loss kernel: its backward kernel runs on dy and the saved
 * tensors (`inputsToSave`, then the forward's second output), named `savedAs` in that order, with
 * the forward's attributes, and gives the gradient of input `wrt` alone.
 */
export function lossGradient(kernelName: string, gradKernelName: string, wrt: string, inputsToSave: string[], savedAs: string[]): GradConfig {
  return {
    kernelName,
    inputsToSave,
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const inputs = Object.fromEntries([['dy', dy], ...savedAs.map((name, i) => [name, saved[i]!])]);
      return { [wrt]: () => tf.engine().runKernel(gradKernelName, inputs as never, attrs as never) as tf.Tensor };
    },
  };
}
