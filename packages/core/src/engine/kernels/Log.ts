import { Log } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const logConfig = unaryKernel(Log);
