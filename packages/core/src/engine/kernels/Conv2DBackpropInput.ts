import { Conv2DBackpropInput, type Conv2DBackpropInputAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';
import { conv2DInfo } from './utils/conv';

export const conv2DBackpropInputConfig: DeviceKernel = {
  kernelName: Conv2DBackpropInput,
  run: ({ inputs, attrs, ops }) => {
    const { dy, filter } = inputs;
    const a = attrs as unknown as Conv2DBackpropInputAttrs;
    return ops.conv2dBackpropInput(dy!, filter!, conv2DInfo(a, a.inputShape, filter!.shape, 1));
  },
};
