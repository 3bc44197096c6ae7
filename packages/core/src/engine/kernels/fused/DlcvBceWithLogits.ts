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

import type { DeviceKernel } from '../kernel';
import { expNegAbs, log1pExpNegAbsGrad, LossChain, lossGradient } from './loss-chain';
import { BCE_WITH_LOGITS, BCE_WITH_LOGITS_GRAD } from './names';

type T = TensorInfo;

function targetOf(attrs: { target?: unknown }): 0 | 1 {
  if (attrs.target !== 0 && attrs.target !== 1) throw new Error(`${BCE_WITH_LOGITS}: target must be 0 or 1, got ${String(attrs.target)}`);
  return attrs.target;
}

export const dlcvBceWithLogitsConfig: DeviceKernel = {
  kernelName: BCE_WITH_LOGITS,
  fused: true,
  run: ({ inputs, attrs, ops }) => {
    const x = inputs.x!;
    const c = new LossChain(ops);
    const relu = c.unary('Relu', x);
    const e = expNegAbs(c, x);
    const base = c.binary('Add', relu, c.unary('Log1p', e));
    const perElement = targetOf(attrs) === 1 ? c.binary('Sub', base, x) : base;
    return c.end([c.reduceAll('Mean', perElement), e]);
  },
};

export const dlcvBceWithLogitsGradConfig: DeviceKernel = {
  kernelName: BCE_WITH_LOGITS_GRAD,
  fused: true,
  run: ({ inputs, attrs, ops }) => {
    const { dy, x, e } = inputs as { dy: T; x: T; e: T };
    const c = new LossChain(ops);
    // the Mean gradient, then Log1p's, Exp's, Neg's and Abs's
    const g = c.binary('RealDiv', c.broadcastBack(dy, x.shape), c.scalar(tf.util.sizeFromShape(x.shape)));
    const fromAbs = log1pExpNegAbsGrad(c, g, x, e);
    const fromRelu = c.reluGrad(g, x);
    const beforeRelu = targetOf(attrs) === 1 ? c.binary('Add', c.unary('Neg', g), fromAbs) : fromAbs;
    return c.end(c.binary('Add', beforeRelu, fromRelu));
  },
};

export const dlcvBceWithLogitsGradient: GradConfig = lossGradient(BCE_WITH_LOGITS, BCE_WITH_LOGITS_GRAD, 'x', ['x'], ['x', 'e']);
