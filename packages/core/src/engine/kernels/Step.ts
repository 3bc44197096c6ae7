import { Step } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const stepConfig = unaryKernel(Step, (attrs) => [(attrs.alpha as number) ?? 0, 0]);
