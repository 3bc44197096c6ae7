import { LessEqual } from '@tensorflow/tfjs';

import { compareKernel } from './utils/elementwise';

export const lessEqualConfig = compareKernel(LessEqual);
