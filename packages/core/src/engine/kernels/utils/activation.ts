// The activations fused into FusedConv2D and _FusedMatMul, applied in place on the kernel's
// own output (prelu makes a new tensor).
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';

import type { DeviceOps } from '../device-ops';
import { Unsupported } from '../kernel';

const FUSED_ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];

/** Throws Unsupported for an activation applyActivation does not have. */
export function checkActivation(activation: string | undefined): void {
  if (activation && !FUSED_ACTIVATIONS.includes(activation)) throw new Unsupported(`activation ${activation}`);
}

/** Applies `activation` to `t` (owned by the kernel); returns t, or the new tensor that replaces it. */
export function applyActivation(ops: DeviceOps, t: TensorInfo, activation: string | undefined, prelu: TensorInfo | undefined, leakyreluAlpha: number | undefined): TensorInfo {
  switch (activation ?? 'linear') {
    case 'linear':
      return t;
    case 'relu':
      ops.unaryInPlace('Relu', t, 0, 0);
      return t;
    case 'relu6':
      ops.unaryInPlace('Relu6', t, 0, 0);
      return t;
    case 'elu':
      ops.unaryInPlace('Elu', t, 0, 0);
      return t;
    case 'sigmoid':
      ops.unaryInPlace('Sigmoid', t, 0, 0);
      return t;
    case 'leakyrelu':
      ops.unaryInPlace('LeakyRelu', t, leakyreluAlpha ?? 0.2, 0);
      return t;
    case 'prelu': {
      if (!prelu) throw new Unsupported('prelu without weights');
      const r = ops.binary('Prelu', t, prelu, tf.backend_util.assertAndGetBroadcastShape(t.shape, prelu.shape));
      ops.dispose(t);
      return r;
    }
    default:
      throw new Unsupported(`activation ${activation}`);
  }
}
