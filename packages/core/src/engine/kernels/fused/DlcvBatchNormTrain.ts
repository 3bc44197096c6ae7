// Training-mode batch norm over all but the last axis: batch statistics and normalisation in one
// kernel, and its backward in one kernel (instead of ~20 broadcasting ops through tf.moments and
// tf.batchNorm). Inputs x, scale, offset; attrs eps. Outputs y, mean, biased variance, 1 / std.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig } from '@tensorflow/tfjs';

import type { DeviceKernel } from '../kernel';
import { BN_TRAIN, BN_TRAIN_GRAD } from './names';

export const dlcvBatchNormTrainConfig: DeviceKernel = {
  kernelName: BN_TRAIN,
  fused: true,
  run: ({ inputs, attrs, ops }) => ops.batchNormTrain(inputs.x!, inputs.scale!, inputs.offset!, attrs.eps as number),
};

export const dlcvBatchNormTrainGradient: GradConfig = {
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, false, true],
  gradFunc: (dys, saved) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, scale, mean, invStd] = saved as tf.Tensor[];
    // Computed eagerly (not inside a thunk): the engine runs each thunk in its own tidy, which
    // would dispose the sibling outputs; unused ones are released by the backward pass's tidy.
    const r = tf.engine().runKernel(BN_TRAIN_GRAD, { dy, x, scale, mean, invStd } as never, {}) as tf.Tensor[];
    const get = (i: number) => () => r[i]!;
    return { x: get(0), scale: get(1), offset: get(2) };
  },
};
