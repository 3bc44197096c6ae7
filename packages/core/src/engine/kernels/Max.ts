import { Max } from '@tensorflow/tfjs';

import { reduceKernel } from './utils/reduce';

export const maxConfig = reduceKernel(Max, 'reductionIndices');
