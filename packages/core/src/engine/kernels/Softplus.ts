import { Softplus } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const softplusConfig = unaryKernel(Softplus);
