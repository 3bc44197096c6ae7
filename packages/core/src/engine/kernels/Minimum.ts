import { Minimum } from '@tensorflow/tfjs';

import { binaryKernel } from './utils/elementwise';

export const minimumConfig = binaryKernel(Minimum);
