import { ArgMin } from '@tensorflow/tfjs';

import { argReduceKernel } from './utils/reduce';

export const argMinConfig = argReduceKernel(ArgMin, false);
