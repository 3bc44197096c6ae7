import { Conv2D, type Conv2DAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';
import { conv2DInfo } from './utils/conv';

export const conv2DConfig: DeviceKernel = {
  kernelName: Conv2D,
  run: ({ inputs, attrs, ops }) => {
    const { x, filter } = inputs;
    const a = attrs as unknown as Conv2DAttrs;
    return ops.conv2d(x!, filter!, conv2DInfo(a, x!.shape, filter!.shape, a.dilations), null);
  },
};
