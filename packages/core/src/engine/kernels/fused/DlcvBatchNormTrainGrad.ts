// The backward of DlcvBatchNormTrain: inputs dy, x, scale, mean, invStd; outputs dx, dscale, doffset.
import type { DeviceKernel } from '../kernel';
import { BN_TRAIN_GRAD } from './names';

export const dlcvBatchNormTrainGradConfig: DeviceKernel = {
  kernelName: BN_TRAIN_GRAD,
  fused: true,
  run: ({ inputs, ops }) => ops.batchNormTrainGrad(inputs.dy!, inputs.x!, inputs.scale!, inputs.mean!, inputs.invStd!),
};
