import { Expm1 } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const expm1Config = unaryKernel(Expm1);
