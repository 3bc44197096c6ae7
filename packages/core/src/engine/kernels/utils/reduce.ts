// Kernel factory for the reductions: tfjs axes and keepDims to the device's reduce.
import * as tf from '@tensorflow/tfjs';

import type { ReduceOp } from '../device-ops';
import { Unsupported, type DeviceKernel } from '../kernel';

const { backend_util, util } = tf;

/** A reduction kernel over input x; `axisAttr` names the attribute holding the axes. */
export function reduceKernel(kernelName: ReduceOp, axisAttr: 'axis' | 'reductionIndices'): DeviceKernel {
  return {
    kernelName,
    run: ({ inputs, attrs, ops }) => {
      const x = inputs.x!;
      const axes = util
        .parseAxisParam(attrs[axisAttr] as number | number[], x.shape)
        .slice()
        .sort((p, q) => p - q);
      if (util.sizeFromShape(x.shape) === 0) throw new Unsupported('empty tensor');
      const outShape = x.shape.filter((_, i) => !axes.includes(i));
      const shape = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
      return ops.reduce(kernelName, x, axes, shape);
    },
  };
}

/** ArgMax / ArgMin over one axis of input x (int32 result). */
export function argReduceKernel(kernelName: 'ArgMax' | 'ArgMin', isMax: boolean): DeviceKernel {
  return {
    kernelName,
    run: ({ inputs, attrs, ops }) => {
      const x = inputs.x!;
      const axes = util.parseAxisParam(attrs.axis as number, x.shape);
      if (axes.length !== 1) throw new Unsupported('multi-axis arg reduce');
      const axis = axes[0]!;
      if (x.shape[axis] === 0) throw new Unsupported('empty axis');
      return ops.argReduce(
        isMax,
        x,
        axis,
        x.shape.filter((_, i) => i !== axis),
      );
    },
  };
}
