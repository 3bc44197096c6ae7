import { ZerosLike } from '@tensorflow/tfjs';

import { Unsupported, type DeviceKernel } from './kernel';

/** Zeros of x's shape and dtype (float32 here); every optimizer's moments start as these. */
export const zerosLikeConfig: DeviceKernel = {
  kernelName: ZerosLike,
  run: ({ inputs, ops }) => {
    const x = inputs.x!;
    if (x.dtype !== 'float32') throw new Unsupported(`dtype ${x.dtype}`);
    return ops.fill(x.shape, 0);
  },
};
