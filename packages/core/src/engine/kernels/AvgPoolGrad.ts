import { AvgPoolGrad, type AvgPoolGradAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';
import { pool2DInfo } from './utils/conv';

export const avgPoolGradConfig: DeviceKernel = {
  kernelName: AvgPoolGrad,
  run: ({ inputs, attrs, ops }) => {
    const { dy, input } = inputs;
    return ops.avgPoolGrad(dy!, input!, pool2DInfo(attrs as unknown as AvgPoolGradAttrs, input!.shape));
  },
};
