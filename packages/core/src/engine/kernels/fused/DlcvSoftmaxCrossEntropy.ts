// tf.losses.softmaxCrossEntropy(onehotLabels, logits) with its defaults (no weights, no
// smoothing: the sum over rows / their count) for [n, classes] float32 tensors, as one kernel
// forward and one backward, with the bits of that tfjs composition (loss-chain.ts). Labels are
// constants: no gradient reaches them.
//   forward   lse = max + log(sum(exp(x - max))) per row (logSumExp), logResult = x - lse, the
//             rows' -sum(logResult z), their sum / n. Outputs the loss and logResult.
//   backward  g = tile(dy / n) (RealDiv's, then Sum's gradient), then the logits' part of the
//             custom gradient of tfjs's softmaxCrossEntropyWithLogits: g (exp(logResult) - z).
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';

import type { DeviceKernel } from '../kernel';
import { LossChain, lossGradient, view } from './loss-chain';
import { SOFTMAX_CE, SOFTMAX_CE_GRAD } from './names';

type T = TensorInfo;

export const dlcvSoftmaxCrossEntropyConfig: DeviceKernel = {
  kernelName: SOFTMAX_CE,
  fused: true,
  run: ({ inputs, ops }) => {
    const { labels: z, logits: x } = inputs as { labels: T; logits: T };
    const n = x.shape[0]!;
    const c = new LossChain(ops);
    const xMax = c.reduce('Max', x, [1], true);
    const d = c.unary('Log', c.reduce('Sum', c.unary('Exp', c.binary('Sub', x, xMax)), [1]));
    const lse = view(c.binary('Add', view(xMax, [n]), d), [n, 1]);
    const logResult = c.binary('Sub', x, lse);
    const rows = c.reduce('Sum', c.unary('Neg', c.binary('Multiply', logResult, z)), [1]);
    const loss = c.binary('RealDiv', c.reduceAll('Sum', rows), c.scalar(n));
    return c.end([loss, logResult]);
  },
};

export const dlcvSoftmaxCrossEntropyGradConfig: DeviceKernel = {
  kernelName: SOFTMAX_CE_GRAD,
  fused: true,
  run: ({ inputs, ops }) => {
    const { dy, labels: z, logResult } = inputs as { dy: T; labels: T; logResult: T };
    const n = logResult.shape[0]!;
    const c = new LossChain(ops);
    const rowGrad = c.broadcastBack(c.binary('RealDiv', dy, c.scalar(n)), [n]);
    return c.end(c.binary('Multiply', view(rowGrad, [n, 1]), c.binary('Sub', c.unary('Exp', logResult), z)));
  },
};

export const dlcvSoftmaxCrossEntropyGradient: GradConfig = lossGradient(SOFTMAX_CE, SOFTMAX_CE_GRAD, 'logits', ['labels'], ['labels', 'logResult']);
