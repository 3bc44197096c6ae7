import { SquaredDifference } from '@tensorflow/tfjs';

import { binaryKernel } from './utils/elementwise';

export const squaredDifferenceConfig = binaryKernel(SquaredDifference);
