import { Equal } from '@tensorflow/tfjs';

import { compareKernel } from './utils/elementwise';

export const equalConfig = compareKernel(Equal);
