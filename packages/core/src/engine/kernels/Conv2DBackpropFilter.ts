import { Conv2DBackpropFilter, type Conv2DBackpropFilterAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';
import { conv2DInfo } from './utils/conv';

export const conv2DBackpropFilterConfig: DeviceKernel = {
  kernelName: Conv2DBackpropFilter,
  run: ({ inputs, attrs, ops }) => {
    const { x, dy } = inputs;
    const a = attrs as unknown as Conv2DBackpropFilterAttrs;
    return ops.conv2dBackpropFilter(x!, dy!, conv2DInfo(a, x!.shape, a.filterShape, 1));
  },
};
