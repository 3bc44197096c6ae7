import { Selu } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const seluConfig = unaryKernel(Selu);
