import { Prod } from '@tensorflow/tfjs';

import { reduceKernel } from './utils/reduce';

export const prodConfig = reduceKernel(Prod, 'axis');
