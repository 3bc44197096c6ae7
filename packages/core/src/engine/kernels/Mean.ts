import { Mean } from '@tensorflow/tfjs';

import { reduceKernel } from './utils/reduce';

export const meanConfig = reduceKernel(Mean, 'axis');
