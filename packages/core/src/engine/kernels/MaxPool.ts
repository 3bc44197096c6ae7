import { MaxPool, type MaxPoolAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';
import { pool2DInfo } from './utils/conv';

export const maxPoolConfig: DeviceKernel = {
  kernelName: MaxPool,
  run: ({ inputs, attrs, ops }) => ops.maxPool(inputs.x!, pool2DInfo(attrs as unknown as MaxPoolAttrs, inputs.x!.shape)),
};
