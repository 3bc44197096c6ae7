import { MaxPoolGrad, type MaxPoolGradAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';
import { pool2DInfo } from './utils/conv';

export const maxPoolGradConfig: DeviceKernel = {
  kernelName: MaxPoolGrad,
  run: ({ inputs, attrs, ops }) => {
    const { dy, input } = inputs;
    return ops.maxPoolGrad(dy!, input!, pool2DInfo(attrs as unknown as MaxPoolGradAttrs, input!.shape));
  },
};
