import { Elu } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const eluConfig = unaryKernel(Elu);
