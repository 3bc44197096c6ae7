import * as tf from '@tensorflow/tfjs';
import { Concat, type ConcatAttrs, type TensorInfo } from '@tensorflow/tfjs';

import { Unsupported, type DeviceKernel } from './kernel';

const { backend_util, util } = tf;

export const concatConfig: DeviceKernel = {
  kernelName: Concat,
  run: ({ inputs, attrs, ops }) => {
    const list = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
    const axis = util.parseAxisParam((attrs as unknown as ConcatAttrs).axis, list[0]!.shape)[0]!;
    const nonEmpty = list.filter((t) => util.sizeFromShape(t.shape) > 0);
    if (nonEmpty.length < 2) throw new Unsupported('fewer than two non-empty inputs');
    ops.accept(...nonEmpty);
    return ops.concat(
      nonEmpty,
      axis,
      backend_util.computeOutShape(
        nonEmpty.map((t) => t.shape),
        axis,
      ),
    );
  },
};
