import { ArgMax } from '@tensorflow/tfjs';

import { argReduceKernel } from './utils/reduce';

export const argMaxConfig = argReduceKernel(ArgMax, true);
