// dy * f'(saved) for an activation f in one pass, instead of tfjs's 2-3 op compositions.
// attrs: op (a UnaryGradOp), alpha (LeakyRelu's slope).
import * as tf from '@tensorflow/tfjs';

import type { UnaryGradOp } from '../device-ops';
import type { DeviceKernel } from '../kernel';
import { ACT_GRAD } from './names';

export const dlcvActivationGradConfig: DeviceKernel = {
  kernelName: ACT_GRAD,
  fused: true,
  run: ({ inputs, attrs, ops }) => ops.unaryGrad(attrs.op as UnaryGradOp, inputs.dy!, inputs.saved!, (attrs.alpha as number) ?? 0),
};

/** Runs the activation gradient kernel on the active backend. */
export function activationGrad(dy: tf.Tensor, saved: tf.Tensor, op: UnaryGradOp, alpha = 0): tf.Tensor {
  return tf.engine().runKernel(ACT_GRAD, { dy, saved } as never, { op, alpha } as never) as tf.Tensor;
}
