import * as tf from '@tensorflow/tfjs';
import { FusedBatchNorm, type FusedBatchNormAttrs } from '@tensorflow/tfjs';

import { Unsupported, type DeviceKernel } from './kernel';

/** Batch norm with given statistics (the inference form), per channel of the last axis. */
export const fusedBatchNormConfig: DeviceKernel = {
  kernelName: FusedBatchNorm,
  run: ({ inputs, attrs, ops }) => {
    const { x, mean, variance, offset, scale } = inputs;
    ops.accept(x, mean, variance, offset, scale);
    const c = x!.shape[x!.shape.length - 1] ?? 1;
    for (const p of [mean, variance, offset, scale]) {
      if (p && tf.util.sizeFromShape(p.shape) !== c) throw new Unsupported('params not per-channel');
    }
    const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
    return ops.batchNorm(x!, mean!, variance!, scale ?? null, offset ?? null, varianceEpsilon ?? 0.001);
  },
};
