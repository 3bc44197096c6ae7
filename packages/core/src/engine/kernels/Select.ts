import { Select } from '@tensorflow/tfjs';

import { Unsupported, type DeviceKernel } from './kernel';

export const selectConfig: DeviceKernel = {
  kernelName: Select,
  run: ({ inputs, ops }) => {
    const { condition, t, e } = inputs;
    if (condition!.dtype !== 'bool') throw new Unsupported('condition dtype');
    return ops.select(condition!, t!, e!);
  },
};
