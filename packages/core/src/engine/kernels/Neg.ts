import { Neg } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const negConfig = unaryKernel(Neg);
