// Kernel factories for the elementwise families: one tfjs kernel per op of device-ops.ts's tables.
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';

import type { BinaryOp, CompareOp, UnaryOp } from '../device-ops';
import type { DeviceKernel } from '../kernel';

const { backend_util } = tf;

/** A broadcasting binary kernel over inputs a and b. */
export function binaryKernel(kernelName: BinaryOp): DeviceKernel {
  return {
    kernelName,
    run: ({ inputs, ops }) => {
      const a = inputs.a!,
        b = inputs.b!;
      return ops.binary(kernelName, a, b, backend_util.assertAndGetBroadcastShape(a.shape, b.shape));
    },
  };
}

/** A broadcasting comparison kernel over inputs a and b (bool result). */
export function compareKernel(kernelName: CompareOp): DeviceKernel {
  return {
    kernelName,
    run: ({ inputs, ops }) => {
      const a = inputs.a!,
        b = inputs.b!;
      return ops.compare(kernelName, a, b, backend_util.assertAndGetBroadcastShape(a.shape, b.shape));
    },
  };
}

/** A unary kernel over input x; `params` reads the op's alpha and beta from its attributes. */
export function unaryKernel(kernelName: UnaryOp, params?: (attrs: NamedAttrMap) => [number, number]): DeviceKernel {
  return {
    kernelName,
    run: ({ inputs, attrs, ops }) => {
      const [alpha, beta] = params ? params(attrs) : [0, 0];
      return ops.unary(kernelName, inputs.x!, alpha, beta);
    },
  };
}
