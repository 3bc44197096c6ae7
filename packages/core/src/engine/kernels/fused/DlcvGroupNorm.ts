// GroupNorm on NHWC (or [N, C]) tensors in one kernel, and its backward in one kernel: statistics
// per sample and contiguous channel group. Inputs x, scale, offset; attrs groups, eps. Outputs y,
// mean and 1 / std ([n, groups] each).
import * as tf from '@tensorflow/tfjs';
import type { GradConfig } from '@tensorflow/tfjs';

import type { DeviceKernel } from '../kernel';
import { GROUP_NORM, GROUP_NORM_GRAD } from './names';

export const dlcvGroupNormConfig: DeviceKernel = {
  kernelName: GROUP_NORM,
  fused: true,
  run: ({ inputs, attrs, ops }) => ops.groupNorm(inputs.x!, inputs.scale!, inputs.offset!, attrs.groups as number, attrs.eps as number),
};

export const dlcvGroupNormGradient: GradConfig = {
  kernelName: GROUP_NORM,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, scale, mean, invStd] = saved as tf.Tensor[];
    // eager for the same reason as DlcvBatchNormTrain's gradient
    const r = tf.engine().runKernel(GROUP_NORM_GRAD, { dy, x, scale, mean, invStd } as never, { groups: (attrs as { groups: number }).groups } as never) as tf.Tensor[];
    const get = (i: number) => () => r[i]!;
    return { x: get(0), scale: get(1), offset: get(2) };
  },
};
