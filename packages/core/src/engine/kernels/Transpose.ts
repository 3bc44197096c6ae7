import { Transpose, type TransposeAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';

export const transposeConfig: DeviceKernel = {
  kernelName: Transpose,
  run: ({ inputs, attrs, ops }) => {
    const x = inputs.x!;
    const { perm } = attrs as unknown as TransposeAttrs;
    return ops.transpose(
      x,
      perm,
      perm.map((p) => x.shape[p]!),
    );
  },
};
