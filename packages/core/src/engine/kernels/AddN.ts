import * as tf from '@tensorflow/tfjs';
import { AddN, type TensorInfo } from '@tensorflow/tfjs';

import { Unsupported, type DeviceKernel } from './kernel';

/** The sum of same-shape tensors, accumulated in order into a copy of the first. */
export const addNConfig: DeviceKernel = {
  kernelName: AddN,
  run: ({ inputs, ops }) => {
    const list = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
    if (list.length === 0) throw new Unsupported('no inputs');
    ops.accept(...list);
    const shape = list[0]!.shape;
    if (list.some((t) => !tf.util.arraysEqual(t.shape, shape))) throw new Unsupported('shapes differ');
    const sum = ops.clone(list[0]!);
    for (let i = 1; i < list.length; i++) ops.binaryInPlace('Add', sum, list[i]!);
    return sum;
  },
};
