// Exact (erf-based) GELU, as torch.nn.GELU(approximate='none'), and its gradient.
import type { GradConfig } from '@tensorflow/tfjs';

import type { DeviceKernel } from '../kernel';
import { activationGrad } from './DlcvActivationGrad';
import { GELU } from './names';

export const dlcvGeluConfig: DeviceKernel = {
  kernelName: GELU,
  fused: true,
  run: ({ inputs, ops }) => ops.unary('Gelu', inputs.x!, 0, 0),
};

export const dlcvGeluGradient: GradConfig = {
  kernelName: GELU,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => ({ x: () => activationGrad(dy as never, saved[0]!, 'Gelu') }),
};
