import { Less } from '@tensorflow/tfjs';

import { compareKernel } from './utils/elementwise';

export const lessConfig = compareKernel(Less);
