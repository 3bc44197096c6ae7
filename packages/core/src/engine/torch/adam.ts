// Adam on the 'dlcv-torch' backend: one addon call per step for all variables (adam.cc) instead of
// ~12 tfjs kernels per variable, with ATen's fused Adam kernel where the engine's device has one
// (CUDA; the CPU from libtorch 2.4), else tfjs's AdamOptimizer arithmetic in ATen foreach ops
// (DLCV_TORCH_ADAM picks one: torch/index.ts). Patches tf.AdamOptimizer.prototype.applyGradients
// like the native engine's adam.ts: the original runs whenever the active backend is not this one
// or a tensor is not float32, and the optimizer's state keeps its original layout (moments,
// accBeta1/2, iterations), so getWeights/setWeights and checkpoints are unchanged.
import * as tf from '@tensorflow/tfjs';

import type { KernelStats } from '../kernels/kernel';
import type { TorchAddon } from './addon';
import type { TorchBackend } from './backend';
import { adamMoments, namedGradients, patchAdamApply, type AdamInternals } from '../adam-internals';
import { activeRecording } from './step-replay';

let patched = false;
let fusedSteps = false;

/** Whether the steps take ATen's fused Adam kernel (else the foreach ops). */
export function fusedAdamSteps(): boolean {
  return fusedSteps;
}

/** Steps from now on with ATen's fused Adam kernel or the foreach ops (torch/index.ts's setTorchAdamFused checks the device has the kernel). */
export function setFusedAdamSteps(fused: boolean): void {
  fusedSteps = fused;
}

// accBeta1/2's float32 values, by the tensor data that holds them: the bias corrections need them
// on the host, and reading the device for them would stop the host until the GPU had run the
// whole backward pass. A step records the powers it makes (b^t * b, rounded as ATen's float32
// multiply rounds); a value not made here (the first step, after setWeights) is read once.
const betaPowers = new WeakMap<object, number>();

function betaPower(acc: tf.Variable): number {
  const known = betaPowers.get(acc.dataId);
  return known ?? (acc.dataSync()[0] as number);
}

/** The positions of addon.adam's arguments that change from step to step: lr, the bias corrections, t. */
const ADAM_STEP_ARGS = [6, 10, 11, 13];

/**
 * addon.adam's arguments at ADAM_STEP_ARGS for the optimizer's next step, and the step's host
 * part, run once the variables hold their new values: the powers of beta it made (as ATen's
 * float32 multiply rounds them) and the step count.
 */
function adamStep(opt: AdamInternals): { args: [number, number, number, number]; after(): void } {
  const acc1 = betaPower(opt.accBeta1),
    acc2 = betaPower(opt.accBeta2);
  return {
    args: [opt.learningRate, Math.fround(1 - acc1), Math.fround(1 - acc2), opt.iterations + 1],
    after: () => {
      betaPowers.set(opt.accBeta1.dataId, Math.fround(acc1 * Math.fround(opt.beta1)));
      betaPowers.set(opt.accBeta2.dataId, Math.fround(acc2 * Math.fround(opt.beta2)));
      opt.incrementIterations();
    },
  };
}

/** `stats` gets an 'Adam' entry: steps in one addon call (native), steps left to tfjs (fallback). */
export function patchTorchAdam(addon: TorchAddon, backendName: string, stats: KernelStats): void {
  if (patched) return;
  patched = true;
  const st = { native: 0, fallback: 0 };
  stats.set('Adam', st);
  patchAdamApply((opt, variableGradients) => {
    if (tf.getBackend() !== backendName) return false;
    const backend = tf.backend() as unknown as TorchBackend;
    const { names, grads } = namedGradients(variableGradients);
    const registered = tf.engine().registeredVariables;
    for (let i = 0; i < names.length; i++) {
      const value = registered[names[i]!];
      const g = grads[i];
      if (!value || (g != null && (g.dtype !== 'float32' || value.dtype !== 'float32'))) {
        st.fallback++;
        return false;
      }
    }
    st.native++;
    const live = names.map((name, i) => ({ value: registered[name]!, g: grads[i], mv: adamMoments(opt, i, name, registered[name]!) })).filter((e) => e.g != null);
    const h = (t: tf.Tensor) => backend.handle(t);
    const n = live.length;
    const step = adamStep(opt);
    const [lr, biasCorrection1, biasCorrection2, t] = step.args;
    const out = addon.adam(
      live.map((e) => h(e.value)),
      live.map((e) => h(e.g!)),
      live.map((e) => h(e.mv[0])),
      live.map((e) => h(e.mv[1])),
      h(opt.accBeta1),
      h(opt.accBeta2),
      lr,
      opt.beta1,
      opt.beta2,
      opt.epsilon,
      biasCorrection1,
      biasCorrection2,
      fusedSteps ? 1 : 0,
      t,
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
    assign(opt.accBeta1, 3 * n);
    assign(opt.accBeta2, 3 * n + 1);
    step.after();
    // a replayed step (step-replay.ts) takes the learning rate, bias corrections and step anew
    activeRecording()?.hookLastCall('adam', {
      dynamic: ADAM_STEP_ARGS,
      replay: () => {
        const next = adamStep(opt);
        return { args: next.args, after: () => (next.after(), st.native++) };
      },
    });
    return true;
  });
}
