import { NotEqual } from '@tensorflow/tfjs';

import { compareKernel } from './utils/elementwise';

export const notEqualConfig = compareKernel(NotEqual);
