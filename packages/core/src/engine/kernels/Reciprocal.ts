import { Reciprocal } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const reciprocalConfig = unaryKernel(Reciprocal);
