import { PadV2, type PadV2Attrs } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';

/** Constant padding; the gradient of slice (DANN's source half of the features) is a zero pad. */
export const padV2Config: DeviceKernel = {
  kernelName: PadV2,
  run: ({ inputs, attrs, ops }) => {
    const x = inputs.x!;
    const { paddings, constantValue } = attrs as unknown as PadV2Attrs;
    const shape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
    return ops.pad(
      x,
      paddings.map((p) => p[0]),
      shape,
      constantValue ?? 0,
    );
  },
};
