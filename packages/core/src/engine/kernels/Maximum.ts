import { Maximum } from '@tensorflow/tfjs';

import { binaryKernel } from './utils/elementwise';

export const maximumConfig = binaryKernel(Maximum);
