import { Multiply } from '@tensorflow/tfjs';

import { binaryKernel } from './utils/elementwise';

export const multiplyConfig = binaryKernel(Multiply);
