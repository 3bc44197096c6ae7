import { Square } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const squareConfig = unaryKernel(Square);
