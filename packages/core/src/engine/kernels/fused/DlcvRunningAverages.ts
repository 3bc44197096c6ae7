// One step of many running averages at once (the ddpm EMA's weights, a BatchNorm's statistics):
//   out[i] = runnings[i] * keep + (values[i] * scales[i]) * take     (no scales: values[i] * take)
// Inputs: the runnings then the values, as one list (tfjs passes a kernel's list inputs as an
// array); attrs keep, take and scales (an array, or null), numbers rounded to float32 here. The
// same float32 ops in the same order as DlcvRunningAverage with scalar factors, so each output
// has the same bits; one kernel for the list (on libtorch a few ATen foreach ops) instead of one
// a tensor. No gradient.
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';

import { Unsupported, type DeviceKernel } from '../kernel';
import { RUNNING_AVERAGES } from './names';

export const dlcvRunningAveragesConfig: DeviceKernel = {
  kernelName: RUNNING_AVERAGES,
  fused: true,
  run: ({ inputs, attrs, ops }) => {
    const list = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
    const n = list.length / 2;
    if (!Number.isInteger(n)) throw new Unsupported(`${list.length} inputs are not runnings and values in pairs`);
    const runnings = list.slice(0, n),
      values = list.slice(n);
    runnings.forEach((r, i) => {
      if (!tf.util.arraysEqual(r.shape, values[i]!.shape)) throw new Unsupported(`running ${i} and its value differ in shape`);
    });
    const scales = attrs.scales as number[] | null;
    if (scales && scales.length !== n) throw new Unsupported(`${scales.length} scales for ${n} values`);
    return ops.runningAverages(runnings, values, Math.fround(attrs.keep as number), Math.fround(attrs.take as number), scales ? scales.map(Math.fround) : null);
  },
};
