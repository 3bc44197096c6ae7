import { Rsqrt } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const rsqrtConfig = unaryKernel(Rsqrt);
