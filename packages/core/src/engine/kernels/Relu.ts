import { Relu } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const reluConfig = unaryKernel(Relu);
