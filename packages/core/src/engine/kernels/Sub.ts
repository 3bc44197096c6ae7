import { Sub } from '@tensorflow/tfjs';

import { binaryKernel } from './utils/elementwise';

export const subConfig = binaryKernel(Sub);
