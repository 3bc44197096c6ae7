// One step of a running average, as BatchNorm keeps its running statistics:
//   out = running * keep + (value * scale) * take
// (scale optional: BatchNorm's unbiasing factor n / (n - 1) for the variance). Inputs running,
// value, keep, take [, scale], the factors float32 scalars. The same four float32 ops, in the
// same order, as the tfjs composition in ops.ts, so both give the same bits; as one kernel it is
// one op on the tape instead of seven (and no saved inputs: it has no gradient, the statistics
// being constants to the loss).
import type { DeviceKernel } from '../kernel';
import { RUNNING_AVERAGE } from './names';

export const dlcvRunningAverageConfig: DeviceKernel = {
  kernelName: RUNNING_AVERAGE,
  fused: true,
  run: ({ inputs, ops }) => {
    const { running, value, keep, take, scale } = inputs;
    const shape = running!.shape;
    const out = ops.binary('Multiply', running!, keep!, shape);
    const scaled = scale ? ops.binary('Multiply', value!, scale, shape) : null;
    const taken = ops.binary('Multiply', scaled ?? value!, take!, shape);
    if (scaled) ops.dispose(scaled);
    ops.binaryInPlace('Add', out, taken);
    ops.dispose(taken);
    return out;
  },
};
