import { Sign } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const signConfig = unaryKernel(Sign);
