import { Exp } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const expConfig = unaryKernel(Exp);
