import * as tf from '@tensorflow/tfjs';
import { Slice, type SliceAttrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';

export const sliceConfig: DeviceKernel = {
  kernelName: Slice,
  run: ({ inputs, attrs, ops }) => {
    const x = inputs.x!;
    const { begin, size } = attrs as unknown as SliceAttrs;
    const [b, s] = tf.slice_util.parseSliceParams(x as never, begin, size) as [number[], number[]];
    return ops.slice(x, b, s);
  },
};
