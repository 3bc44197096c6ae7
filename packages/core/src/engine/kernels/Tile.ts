import { Tile, type TileAttrs } from '@tensorflow/tfjs';

import { Unsupported, type DeviceKernel } from './kernel';

export const tileConfig: DeviceKernel = {
  kernelName: Tile,
  run: ({ inputs, attrs, ops }) => {
    const x = inputs.x!;
    const { reps } = attrs as unknown as TileAttrs;
    if (reps.length !== x.shape.length) throw new Unsupported('reps rank');
    return ops.tile(
      x,
      reps,
      x.shape.map((d, i) => d * reps[i]!),
    );
  },
};
