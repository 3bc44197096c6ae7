import { Tanh } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const tanhConfig = unaryKernel(Tanh);
