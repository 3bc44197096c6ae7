import { Abs } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const absConfig = unaryKernel(Abs);
