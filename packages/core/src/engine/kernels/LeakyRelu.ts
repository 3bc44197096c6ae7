import { LeakyRelu } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const leakyReluConfig = unaryKernel(LeakyRelu, (attrs) => [(attrs.alpha as number) ?? 0.2, 0]);
