// tf.losses.sigmoidCrossEntropy(labels, logits) with its defaults (no weights, no smoothing: the
// sum over elements / their count) as one kernel forward and one backward, with the bits of that
// tfjs composition (loss-chain.ts). Labels are constants: no gradient reaches them.
//   forward   relu(x) - x z + log1p(e), e = exp(-|x|); its sum / size. Outputs the loss and e.
//   backward  g = tile(dy / size) (RealDiv's, then Sum's gradient); x's gradient sums, in the
//             tape's reverse order, the Abs term through log1p(e), -g z (the Sub and the
//             Multiply) and the Relu gradient of g.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';

import type { DeviceKernel } from '../kernel';
import { expNegAbs, log1pExpNegAbsGrad, LossChain, lossGradient } from './loss-chain';
import { SIGMOID_CE, SIGMOID_CE_GRAD } from './names';

type T = TensorInfo;

export const dlcvSigmoidCrossEntropyConfig: DeviceKernel = {
  kernelName: SIGMOID_CE,
  fused: true,
  run: ({ inputs, ops }) => {
    const { labels: z, logits: x } = inputs as { labels: T; logits: T };
    const c = new LossChain(ops);
    const maxOutput = c.unary('Relu', x);
    const outputXTarget = c.binary('Multiply', x, z);
    const difference = c.binary('Sub', maxOutput, outputXTarget);
    const e = expNegAbs(c, x);
    const losses = c.binary('Add', difference, c.unary('Log1p', e));
    const loss = c.binary('RealDiv', c.reduceAll('Sum', losses), c.scalar(tf.util.sizeFromShape(x.shape)));
    return c.end([loss, e]);
  },
};

export const dlcvSigmoidCrossEntropyGradConfig: DeviceKernel = {
  kernelName: SIGMOID_CE_GRAD,
  fused: true,
  run: ({ inputs, ops }) => {
    const { dy, labels: z, logits: x, e } = inputs as { dy: T; labels: T; logits: T; e: T };
    const c = new LossChain(ops);
    const g = c.broadcastBack(c.binary('RealDiv', dy, c.scalar(tf.util.sizeFromShape(x.shape))), x.shape);
    const fromAbs = log1pExpNegAbsGrad(c, g, x, e);
    const fromMultiply = c.binary('Multiply', c.unary('Neg', g), z);
    const fromRelu = c.reluGrad(g, x);
    return c.end(c.binary('Add', c.binary('Add', fromAbs, fromMultiply), fromRelu));
  },
};

export const dlcvSigmoidCrossEntropyGradient: GradConfig = lossGradient(SIGMOID_CE, SIGMOID_CE_GRAD, 'logits', ['labels', 'logits'], ['labels', 'logits', 'e']);
