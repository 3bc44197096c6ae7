import { GreaterEqual } from '@tensorflow/tfjs';

import { compareKernel } from './utils/elementwise';

export const greaterEqualConfig = compareKernel(GreaterEqual);
