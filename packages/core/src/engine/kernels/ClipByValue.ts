import { ClipByValue, type ClipByValueAttrs } from '@tensorflow/tfjs';

import { unaryKernel } from './utils/elementwise';

export const clipByValueConfig = unaryKernel(ClipByValue, (attrs) => {
  const { clipValueMin, clipValueMax } = attrs as unknown as ClipByValueAttrs;
  return [clipValueMin, clipValueMax];
});
