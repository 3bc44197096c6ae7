import { Relu6 } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const relu6Config = unaryKernel(Relu6);
