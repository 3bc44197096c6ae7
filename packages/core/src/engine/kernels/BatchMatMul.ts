import { BatchMatMul, type BatchMatMulAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';
import { matMulGeometry } from './utils/matmul';

export const batchMatMulConfig: DeviceKernel = {
  kernelName: BatchMatMul,
  run: ({ inputs, attrs, ops }) => {
    const { a, b } = inputs;
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    return ops.matMul(a!, b!, matMulGeometry(a!, b!, !!transposeA, !!transposeB));
  },
};
