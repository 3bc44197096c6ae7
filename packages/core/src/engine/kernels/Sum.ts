import { Sum } from '@tensorflow/tfjs';

import { reduceKernel } from './utils/reduce';

export const sumConfig = reduceKernel(Sum, 'axis');
