// Convolution + bias + activation. A per-output-channel bias goes into the convolution itself;
// any other bias shape is added after it.
import * as tf from '@tensorflow/tfjs';
import { FusedConv2D, type FusedConv2DAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';
import { applyActivation, checkActivation } from './utils/activation';
import { conv2DInfo } from './utils/conv';

export const fusedConv2DConfig: DeviceKernel = {
  kernelName: FusedConv2D,
  run: ({ inputs, attrs, ops }) => {
    const { x, filter, bias, preluActivationWeights } = inputs;
    const a = attrs as unknown as FusedConv2DAttrs;
    ops.accept(x, filter, bias, preluActivationWeights);
    checkActivation(a.activation);
    const outC = filter!.shape[3]!;
    const biasInConv = bias != null && tf.util.sizeFromShape(bias.shape) === outC && bias.shape.length <= 1;
    const r = ops.conv2d(x!, filter!, conv2DInfo(a, x!.shape, filter!.shape, a.dilations), biasInConv ? bias : null);
    if (bias && !biasInConv) ops.binaryInPlace('Add', r, bias);
    return applyActivation(ops, r, a.activation, preluActivationWeights, a.leakyreluAlpha);
  },
};
