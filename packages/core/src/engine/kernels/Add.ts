import { Add } from '@tensorflow/tfjs';

import { binaryKernel } from './utils/elementwise';

export const addConfig = binaryKernel(Add);
