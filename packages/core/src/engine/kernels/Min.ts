import { Min } from '@tensorflow/tfjs';

import { reduceKernel } from './utils/reduce';

export const minConfig = reduceKernel(Min, 'axis');
