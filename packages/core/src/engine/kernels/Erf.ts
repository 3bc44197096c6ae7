import { Erf } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const erfConfig = unaryKernel(Erf);
