// Adam on the 'dlcv-torch' backend: one addon call per step for all variables (adam.cc), with
// tfjs's AdamOptimizer arithmetic in ATen ops on the device, instead of ~12 tfjs kernels per
// variable. Patches tf.AdamOptimizer.prototype.applyGradients like the native engine's adam.ts:
// the original runs whenever the active backend is not this one or a tensor is not float32, and
// the optimizer's state keeps its original layout (moments, accBeta1/2, iterations), so
// getWeights/setWeights and checkpoints are unchanged.
import * as tf from '@tensorflow/tfjs';

import type { KernelStats } from '../kernels/kernel';
import type { TorchAddon } from './addon';
import type { TorchBackend } from './backend';

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

/** The optimizer's moment variables for variable i, made (zeros) on first use. */
function moments(opt: AdamInternals, i: number, name: string, value: tf.Variable): [tf.Variable, tf.Variable] {
  const zeros = () => tf.tidy(() => tf.zerosLike(value).variable(false));
  opt.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: zeros() };
  opt.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: zeros() };
  return [opt.accumulatedFirstMoment[i]!.variable, opt.accumulatedSecondMoment[i]!.variable];
}

/** `stats` gets an 'Adam' entry: steps in one addon call (native), steps left to tfjs (fallback). */
export function patchTorchAdam(addon: TorchAddon, backendName: string, stats: KernelStats): void {
  if (patched) return;
  patched = true;
  const st = { native: 0, fallback: 0 };
  stats.set('Adam', st);
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients(g: VarGrads): void };
  const original = proto.applyGradients;
  proto.applyGradients = function (this: AdamInternals, variableGradients: VarGrads) {
    if (tf.getBackend() !== backendName) return original.call(this, variableGradients);
    const backend = tf.backend() as unknown as TorchBackend;
    const isArray = Array.isArray(variableGradients);
    const names = isArray ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const grads = names.map((name, i) => (isArray ? variableGradients[i]!.tensor : (variableGradients as tf.NamedTensorMap)[name]));
    const registered = tf.engine().registeredVariables;
    for (let i = 0; i < names.length; i++) {
      const value = registered[names[i]!];
      const g = grads[i];
      if (!value || (g != null && (g.dtype !== 'float32' || value.dtype !== 'float32'))) {
        st.fallback++;
        return original.call(this, variableGradients);
      }
    }
    st.native++;
    const live = names.map((name, i) => ({ value: registered[name]!, g: grads[i], mv: moments(this, i, name, registered[name]!) })).filter((e) => e.g != null);
    const h = (t: tf.Tensor) => backend.handle(t);
    const n = live.length;
    const out = addon.adam(
      live.map((e) => h(e.value)),
      live.map((e) => h(e.g!)),
      live.map((e) => h(e.mv[0])),
      live.map((e) => h(e.mv[1])),
      h(this.accBeta1),
      h(this.accBeta2),
      this.learningRate,
      this.beta1,
      this.beta2,
      this.epsilon,
    );
    // Each new tensor is assigned (the variable takes a reference) and the local one released.
    const assign = (v: tf.Variable, k: number) => {
      const t = tf.engine().makeTensorFromTensorInfo(backend.fromHandle(out[k]!, v.shape, 'float32'), backend) as tf.Tensor;
      v.assign(t);
      t.dispose();
    };
    live.forEach((e, i) => {
      assign(e.value, i);
      assign(e.mv[0], n + i);
      assign(e.mv[1], 2 * n + i);
    });
    assign(this.accBeta1, 3 * n);
    assign(this.accBeta2, 3 * n + 1);
    this.incrementIterations();
  };
}
