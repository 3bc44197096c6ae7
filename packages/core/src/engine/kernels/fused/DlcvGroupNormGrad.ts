// The backward of DlcvGroupNorm: inputs dy, x, scale, mean, invStd; attrs groups; outputs dx,
// dscale, doffset.
import type { DeviceKernel } from '../kernel';
import { GROUP_NORM_GRAD } from './names';

export const dlcvGroupNormGradConfig: DeviceKernel = {
  kernelName: GROUP_NORM_GRAD,
  fused: true,
  run: ({ inputs, attrs, ops }) => ops.groupNormGrad(inputs.dy!, inputs.x!, inputs.scale!, inputs.mean!, inputs.invStd!, attrs.groups as number),
};
