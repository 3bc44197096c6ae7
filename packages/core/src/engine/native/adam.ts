// A fused Adam update: one native call per variable instead of ~12 elementwise kernels.
// Patches tf.AdamOptimizer.prototype.applyGradients; the patched method runs the original
// whenever the active backend is not ours or a tensor is not float32, and keeps the optimizer's
// state (moments, accBeta1/2, iterations) in exactly the original layout, so getWeights/setWeights
// and checkpoints are unchanged.
import * as tf from '@tensorflow/tfjs';

import type { NativeAddon } from './addon';
import { outputF32 } from './alloc';
import type { CpuLikeBackend } from './addon-ops';
import { adamMoments, namedGradients, patchAdamApply } from '../adam-internals';

let patched = false;

export function patchAdam(addon: NativeAddon, backendName: string): void {
  if (patched) return;
  patched = true;
  patchAdamApply((opt, variableGradients) => {
    if (tf.getBackend() !== backendName) return false;
    const backend = tf.backend() as unknown as CpuLikeBackend;
    const vals = (t: tf.Tensor) => {
      const v = t.dtype === 'float32' ? backend.data.get(t.dataId).values : undefined;
      return v instanceof Float32Array ? v : null;
    };
    const { names, grads } = namedGradients(variableGradients);
    const registered = tf.engine().registeredVariables;
    // Everything float32 on our backend, or the original implementation does the whole step.
    for (let i = 0; i < names.length; i++) {
      const value = registered[names[i]!];
      const g = grads[i];
      if (!value || (g != null && (!vals(g) || !vals(value)))) return false;
    }
    const accB1 = opt.accBeta1.dataSync()[0]!,
      accB2 = opt.accBeta2.dataSync()[0]!;
    const omb1 = Math.fround(1 - accB1),
      omb2 = Math.fround(1 - accB2);
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = registered[name]!;
        const [m, v] = adamMoments(opt, i, name, value);
        const g = grads[i];
        if (g == null) return;
        const n = value.size;
        const newValue = outputF32(n),
          newM = outputF32(n),
          newV = outputF32(n);
        addon.adam(vals(value)!, vals(g)!, vals(m)!, vals(v)!, opt.learningRate, opt.beta1, opt.beta2, opt.epsilon, omb1, omb2, newValue, newM, newV);
        m.assign(tf.tensor(newM, m.shape, 'float32'));
        v.assign(tf.tensor(newV, v.shape, 'float32'));
        value.assign(tf.tensor(newValue, value.shape, 'float32'));
      });
      opt.accBeta1.assign(tf.mul(opt.accBeta1, opt.beta1));
      opt.accBeta2.assign(tf.mul(opt.accBeta2, opt.beta2));
    });
    opt.incrementIterations();
    return true;
  });
}
