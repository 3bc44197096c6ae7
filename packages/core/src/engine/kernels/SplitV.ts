import * as tf from '@tensorflow/tfjs';
import { SplitV, type SplitVAttrs, type TensorInfo } from '@tensorflow/tfjs';

import type { DeviceKernel } from './kernel';

const { backend_util, util } = tf;

/** One slice per part; the gradient of concat (tfjs's cpu kernel copies element by element). */
export const splitVConfig: DeviceKernel = {
  kernelName: SplitV,
  run: ({ inputs, attrs, ops }) => {
    const x = inputs.x!;
    const { numOrSizeSplits, axis: axisAttr } = attrs as unknown as SplitVAttrs;
    const axis = util.parseAxisParam(axisAttr, x.shape)[0]!;
    const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    const outs: TensorInfo[] = [];
    for (const s of sizes) {
      const size = [...x.shape];
      size[axis] = s;
      outs.push(ops.slice(x, begin, size));
      begin[axis] = begin[axis]! + s;
    }
    return outs;
  },
};
