// Matrix product + bias + activation (dense layers).
import * as tf from '@tensorflow/tfjs';
import { _FusedMatMul, type _FusedMatMulAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';
import { applyActivation, checkActivation } from './utils/activation';
import { matMulGeometry } from './utils/matmul';

const { backend_util, util } = tf;

export const _fusedMatMulConfig: DeviceKernel = {
  kernelName: _FusedMatMul,
  run: ({ inputs, attrs, ops }) => {
    const { a, b, bias, preluActivationWeights } = inputs;
    const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as _FusedMatMulAttrs;
    ops.accept(bias, preluActivationWeights);
    checkActivation(activation);
    let r = ops.matMul(a!, b!, matMulGeometry(a!, b!, !!transposeA, !!transposeB));
    if (bias) {
      const shape = backend_util.assertAndGetBroadcastShape(r.shape, bias.shape);
      if (!util.arraysEqual(shape, r.shape)) {
        const r2 = ops.binary('Add', r, bias, shape);
        ops.dispose(r);
        r = r2;
      } else {
        ops.binaryInPlace('Add', r, bias);
      }
    }
    return applyActivation(ops, r, activation, preluActivationWeights, leakyreluAlpha);
  },
};
