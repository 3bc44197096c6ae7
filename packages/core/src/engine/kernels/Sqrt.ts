import { Sqrt } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const sqrtConfig = unaryKernel(Sqrt);
