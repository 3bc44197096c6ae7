import { Log1p } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const log1pConfig = unaryKernel(Log1p);
