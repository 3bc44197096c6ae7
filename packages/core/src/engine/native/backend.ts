// The 'dlcv-native' tfjs backend: the cpu backend's tensor storage (a MathBackendCPU subclass),
// every cpu kernel registered for it, then native kernels registered over the hot ones.
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc } from '@tensorflow/tfjs';

import type { NativeAddon } from './addon';
import { makeNativeKernels, type KernelStats } from './kernels';
import { patchAdam } from './adam';
import { registerFused } from './fused';

export const NATIVE_BACKEND_NAME = 'dlcv-native';

export const kernelStats: KernelStats = new Map();

export function registerNativeBackend(addon: NativeAddon): { kernels: string[] } {
  const cpu = tf.findBackend('cpu');
  if (!cpu) throw new Error('the tfjs cpu backend is not registered');
  const CpuBackend = cpu.constructor as new () => KernelBackend;
  class NativeBackend extends CpuBackend {
    constructor() {
      super();
      // MathBackendCPU prints a "use tfjs-node" hint on first use; we are the fast path.
      (this as unknown as { firstUse: boolean }).firstUse = false;
    }
  }
  const cpuKernels = tf.getKernelsForBackend('cpu');
  const cpuFuncs = new Map<string, KernelFunc>(cpuKernels.map((k) => [k.kernelName, k.kernelFunc]));
  const natives = makeNativeKernels(addon, NATIVE_BACKEND_NAME, cpuFuncs, kernelStats);
  const overridden = new Set(natives.map((k) => k.kernelName));
  const already = new Set(tf.getKernelsForBackend(NATIVE_BACKEND_NAME).map((k) => k.kernelName));
  for (const k of cpuKernels) {
    if (!overridden.has(k.kernelName) && !already.has(k.kernelName)) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND_NAME });
  }
  for (const k of natives) {
    if (already.has(k.kernelName)) tf.unregisterKernel(k.kernelName, NATIVE_BACKEND_NAME);
    tf.registerKernel(k);
  }
  // Priority 0: below cpu (1), so registering never changes which backend tfjs picks by itself.
  tf.registerBackend(NATIVE_BACKEND_NAME, () => new NativeBackend(), 0);
  registerFused(addon, NATIVE_BACKEND_NAME);
  patchAdam(addon, NATIVE_BACKEND_NAME);
  return { kernels: [...overridden].sort() };
}
