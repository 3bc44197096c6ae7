// A fused Adam update: one native call per variable instead of ~12 elementwise kernels.
// Patches tf.AdamOptimizer.prototype.applyGradients; the patched method runs the original
// whenever the active backend is not ours or a tensor is not float32, and keeps the optimizer's
// state (moments, accBeta1/2, iterations) in exactly the original layout, so getWeights/setWeights
// and checkpoints are unchanged.
import * as tf from '@tensorflow/tfjs';

import type { NativeAddon } from './addon';
import { outputF32 } from './alloc';
import type { CpuLikeBackend } from './addon-ops';

type VarGrads = tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[];
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}

let patched = false;

export function patchAdam(addon: NativeAddon, backendName: string): void {
  if (patched) return;
  patched = true;
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients(g: VarGrads): void };
  const original = proto.applyGradients;
  proto.applyGradients = function (this: AdamInternals, variableGradients: VarGrads) {
    if (tf.getBackend() !== backendName) return original.call(this, variableGradients);
    const backend = tf.backend() as unknown as CpuLikeBackend;
    const vals = (t: tf.Tensor) => {
      const v = t.dtype === 'float32' ? backend.data.get(t.dataId).values : undefined;
      return v instanceof Float32Array ? v : null;
    };
    const isArray = Array.isArray(variableGradients);
    const names = isArray ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const grads = names.map((name, i) => (isArray ? variableGradients[i]!.tensor : (variableGradients as tf.NamedTensorMap)[name]));
    const registered = tf.engine().registeredVariables;
    // Everything float32 on our backend, or the original implementation does the whole step.
    for (let i = 0; i < names.length; i++) {
      const value = registered[names[i]!];
      const g = grads[i];
      if (!value || (g != null && (!vals(g) || !vals(value)))) return original.call(this, variableGradients);
    }
    const accB1 = this.accBeta1.dataSync()[0]!,
      accB2 = this.accBeta2.dataSync()[0]!;
    const omb1 = Math.fround(1 - accB1),
      omb2 = Math.fround(1 - accB2);
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = registered[name]!;
        if (this.accumulatedFirstMoment[i] == null) {
          this.accumulatedFirstMoment[i] = {
            originalName: `${name}/m`,
            variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
          };
        }
        if (this.accumulatedSecondMoment[i] == null) {
          this.accumulatedSecondMoment[i] = {
            originalName: `${name}/v`,
            variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
          };
        }
        const g = grads[i];
        if (g == null) return;
        const m = this.accumulatedFirstMoment[i]!.variable,
          v = this.accumulatedSecondMoment[i]!.variable;
        const n = value.size;
        const newValue = outputF32(n),
          newM = outputF32(n),
          newV = outputF32(n);
        addon.adam(vals(value)!, vals(g)!, vals(m)!, vals(v)!, this.learningRate, this.beta1, this.beta2, this.epsilon, omb1, omb2, newValue, newM, newV);
        m.assign(tf.tensor(newM, m.shape, 'float32'));
        v.assign(tf.tensor(newV, v.shape, 'float32'));
        value.assign(tf.tensor(newValue, value.shape, 'float32'));
      });
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.incrementIterations();
  };
}
