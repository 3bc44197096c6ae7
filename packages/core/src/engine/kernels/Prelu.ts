import * as tf from '@tensorflow/tfjs';
import { Prelu } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';

export const preluConfig: DeviceKernel = {
  kernelName: Prelu,
  run: ({ inputs, ops }) => {
    const { x, alpha } = inputs;
    return ops.binary('Prelu', x!, alpha!, tf.backend_util.assertAndGetBroadcastShape(x!.shape, alpha!.shape));
  },
};
