import { EluGrad } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';

/** dy * elu'(x), from the saved output y. */
export const eluGradConfig: DeviceKernel = {
  kernelName: EluGrad,
  run: ({ inputs, ops }) => ops.unaryGrad('Elu', inputs.dy!, inputs.y!, 0),
};
