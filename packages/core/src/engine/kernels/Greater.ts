import { Greater } from '@tensorflow/tfjs';

import { compareKernel } from './utils/elementwise';

export const greaterConfig = compareKernel(Greater);
