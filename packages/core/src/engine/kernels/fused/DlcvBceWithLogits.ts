// The mean binary cross-entropy of logits x against a constant target t (0 or 1), TensorFlow's
// stable formula mean(max(x, 0) - x t + log(1 + exp(-|x|))), as one kernel forward and one
// backward instead of about 8 and 15 tfjs kernels with their tape entries. Each runs the device
// ops that ops.ts's tfjs composition runs through its kernels and gradients, in the same order
// and with the same sums grouped alike, so the bits are those of the composition on every engine:
//   forward   relu(x) + log1p(e), e = exp(-|x|), minus x when t = 1, then the mean; outputs the
//             loss and e (kept for the backward, as the composition's Exp keeps it)
//   backward  g = tile(dy) / size (the Mean gradient, reduction-gradients.ts); the Log1p, Exp,
//             Neg and Abs gradients give g / (e + 1) * e, negated, times step(x, -1); x's
//             gradient sums, in the tape's reverse order, -g (the Sub, when t = 1), that Abs
//             term and the Relu gradient of g.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';

import type { BinaryOp, DeviceOps, UnaryOp } from '../device-ops';
import type { DeviceKernel } from '../kernel';
import { BCE_WITH_LOGITS, BCE_WITH_LOGITS_GRAD } from './names';

type T = TensorInfo;

/** Runs each step on the device ops, disposing every intermediate the next steps no longer need. */
class Chain {
  private readonly made: T[] = [];
  constructor(private readonly ops: DeviceOps) {}
  unary(op: UnaryOp, x: T, alpha = 0): T {
    return this.keep(this.ops.unary(op, x, alpha, 0));
  }
  binary(op: BinaryOp, a: T, b: T): T {
    return this.keep(this.ops.binary(op, a, b, tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape)));
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

function targetOf(attrs: { target?: unknown }): 0 | 1 {
  if (attrs.target !== 0 && attrs.target !== 1) throw new Error(`${BCE_WITH_LOGITS}: target must be 0 or 1, got ${String(attrs.target)}`);
  return attrs.target;
}

/** exp(-|x|), as the composition makes it. */
const expNegAbs = (c: Chain, x: T) => c.unary('Exp', c.unary('Neg', c.unary('Abs', x)));

export const dlcvBceWithLogitsConfig: DeviceKernel = {
  kernelName: BCE_WITH_LOGITS,
  fused: true,
  run: ({ inputs, attrs, ops }) => {
    const x = inputs.x!;
    const c = new Chain(ops);
    const relu = c.unary('Relu', x);
    const e = expNegAbs(c, x);
    const base = c.binary('Add', relu, c.unary('Log1p', e));
    const perElement = targetOf(attrs) === 1 ? c.binary('Sub', base, x) : base;
    const axes = x.shape.map((_, i) => i);
    return c.end([c.keep(ops.reduce('Mean', perElement, axes, [])), e]);
  },
};

export const dlcvBceWithLogitsGradConfig: DeviceKernel = {
  kernelName: BCE_WITH_LOGITS_GRAD,
  fused: true,
  run: ({ inputs, attrs, ops }) => {
    const { dy, x, e } = inputs as { dy: T; x: T; e: T };
    const c = new Chain(ops);
    const size = tf.util.sizeFromShape(x.shape);
    // the Mean gradient: dy, reshaped to x's rank (the same data), tiled to x's shape, / size
    const dyKept: T = { dataId: dy.dataId, shape: x.shape.map(() => 1), dtype: dy.dtype };
    const tiled = size === 1 ? c.keep(ops.clone(dyKept)) : c.keep(ops.tile(dyKept, x.shape, x.shape));
    const g = c.binary('RealDiv', tiled, c.keep(ops.fill([], size)));
    // Log1p's, Exp's, Neg's and Abs's gradients
    const gExp = c.binary('RealDiv', g, c.binary('Add', e, c.keep(ops.fill([], 1))));
    const gAbs = c.unary('Neg', c.binary('Multiply', gExp, e));
    const fromAbs = c.binary('Multiply', gAbs, c.unary('Step', x, -1));
    const fromRelu = c.keep(ops.unaryGrad('Relu', g, x, 0));
    const beforeRelu = targetOf(attrs) === 1 ? c.binary('Add', c.unary('Neg', g), fromAbs) : fromAbs;
    return c.end(c.binary('Add', beforeRelu, fromRelu));
  },
};

export const dlcvBceWithLogitsGradient: GradConfig = {
  kernelName: BCE_WITH_LOGITS,
  inputsToSave: ['x'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, e] = saved as tf.Tensor[];
    return { x: () => tf.engine().runKernel(BCE_WITH_LOGITS_GRAD, { dy, x, e } as never, { target: attrs.target } as never) as tf.Tensor };
  },
};
