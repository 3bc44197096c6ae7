import { RealDiv } from '@tensorflow/tfjs';

import { binaryKernel } from './utils/elementwise';

export const realDivConfig = binaryKernel(RealDiv);
