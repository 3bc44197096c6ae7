// The 'dlcv-native' tfjs backend: the cpu backend's tensor storage (a MathBackendCPU subclass),
// every cpu kernel registered for it, then the device kernels (../kernels) over the addon's
// DeviceOps registered over the hot ones, each falling back to the cpu kernel it replaces.
import * as tf from '@tensorflow/tfjs';
import type { BackendValues, DataId, DataType, KernelBackend, KernelFunc } from '@tensorflow/tfjs';

import { deviceKernelConfigs, type KernelStats } from '../kernels/kernel';
import { KERNELS, registerGradients } from '../kernels/register-all';
import { patchAdam } from './adam';
import type { NativeAddon } from './addon';
import { addonOpsFor } from './addon-ops';
import { isPooled, releaseOutput, retainOutput } from './alloc';

export const NATIVE_BACKEND_NAME = 'dlcv-native';

export const kernelStats: KernelStats = new Map();

export function registerNativeBackend(addon: NativeAddon): { kernels: string[] } {
  const cpu = tf.findBackend('cpu');
  if (!cpu) throw new Error('the tfjs cpu backend is not registered');
  const CpuBackend = cpu.constructor as new () => KernelBackend;
  type DataMap = { has(id: object): boolean; get(id: object): { values?: unknown } };
  type Storage = { data: DataMap };
  // Tensor storage hooks for alloc.ts's output pool: count the data entries that refer to each
  // pooled buffer, give the buffer back when the last one is deleted, and copy on read.
  const base = CpuBackend.prototype;
  class NativeBackend extends CpuBackend {
    constructor() {
      super();
      // MathBackendCPU prints a "use tfjs-node" hint on first use; we are the fast path.
      (this as unknown as { firstUse: boolean }).firstUse = false;
    }
    override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
      retainOutput(values);
      return base.write.call(this, values, shape, dtype);
    }
    override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
      const data = (this as unknown as Storage).data;
      if (data.has(dataId)) releaseOutput(data.get(dataId).values);
      retainOutput(values);
      base.move.call(this, dataId, values, shape, dtype, refCount);
    }
    override disposeData(dataId: DataId, force = false): boolean {
      const data = (this as unknown as Storage).data;
      const values = data.has(dataId) ? data.get(dataId).values : undefined;
      const released = base.disposeData.call(this, dataId, force);
      if (values !== undefined && !data.has(dataId)) releaseOutput(values);
      return released;
    }
    override readSync(dataId: DataId): BackendValues {
      const values = base.readSync.call(this, dataId);
      return isPooled(values) ? (values as Float32Array).slice() : values;
    }
  }
  const cpuKernels = tf.getKernelsForBackend('cpu');
  const cpuFuncs = new Map<string, KernelFunc>(cpuKernels.map((k) => [k.kernelName, k.kernelFunc]));
  const { replacing: natives, fused } = deviceKernelConfigs({
    backendName: NATIVE_BACKEND_NAME,
    kernels: KERNELS,
    opsFor: addonOpsFor(addon),
    fallbackFor: (name) => cpuFuncs.get(name),
    stats: kernelStats,
  });
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
  const registered = new Set(tf.getKernelsForBackend(NATIVE_BACKEND_NAME).map((k) => k.kernelName));
  for (const k of fused) if (!registered.has(k.kernelName)) tf.registerKernel(k);
  registerGradients();
  patchAdam(addon, NATIVE_BACKEND_NAME);
  return { kernels: [...overridden].sort() };
}
