import { Pow } from '@tensorflow/tfjs';

import { binaryKernel } from './utils/elementwise';

export const powConfig = binaryKernel(Pow);
