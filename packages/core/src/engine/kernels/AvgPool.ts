import { AvgPool, type AvgPoolAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';
import { pool2DInfo } from './utils/conv';

export const avgPoolConfig: DeviceKernel = {
  kernelName: AvgPool,
  run: ({ inputs, attrs, ops }) => ops.avgPool(inputs.x!, pool2DInfo(attrs as unknown as AvgPoolAttrs, inputs.x!.shape)),
};
