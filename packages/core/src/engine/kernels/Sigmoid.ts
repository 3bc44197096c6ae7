import { Sigmoid } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const sigmoidConfig = unaryKernel(Sigmoid);
