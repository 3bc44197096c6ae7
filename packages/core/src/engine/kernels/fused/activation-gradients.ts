// The stock Relu, LeakyRelu, Sigmoid and Tanh gradients, wrapped: same saved tensors, one
// DlcvActivationGrad kernel where the active backend has it, the original gradient elsewhere.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig } from '@tensorflow/tfjs';

import type { UnaryGradOp } from '../device-ops';
import { activationGrad } from './DlcvActivationGrad';
import { ACT_GRAD } from './names';

type Wrapped = GradConfig & { __dlcvFused?: boolean };

function wrap(kernelName: string, op: UnaryGradOp, useAlpha = false): void {
  const orig = tf.getGradient(kernelName) as Wrapped | undefined;
  if (!orig || orig.__dlcvFused) return;
  const cfg: Wrapped = {
    ...orig,
    gradFunc: (dy, saved, attrs) => {
      const s = saved[0];
      if (!s || s.dtype !== 'float32' || Array.isArray(dy) || tf.getKernel(ACT_GRAD, tf.getBackend()) == null) {
        return orig.gradFunc(dy, saved, attrs);
      }
      const alpha = useAlpha ? ((attrs as { alpha?: number }).alpha ?? 0.2) : 0;
      return { x: () => activationGrad(dy, s, op, alpha) };
    },
  };
  cfg.__dlcvFused = true;
  tf.registerGradient(cfg);
}

/** Wraps the four stock activation gradients (once per tfjs instance). */
export function wrapActivationGradients(): void {
  wrap('Relu', 'Relu');
  wrap('LeakyRelu', 'LeakyRelu', true);
  wrap('Sigmoid', 'Sigmoid');
  wrap('Tanh', 'Tanh');
}
