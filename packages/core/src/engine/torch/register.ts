// Registers the 'dlcv-torch' tfjs backend: the device kernels (../kernels) over the addon's
// DeviceOps, the storage kernels on handles, and every other tfjs cpu kernel as a host trip
// (host-kernels.ts: counted on the CPU, an error naming the kernel on CUDA).
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';

import { deviceKernelConfigs, type KernelStats } from '../kernels/kernel';
import { KERNELS, registerGradients } from '../kernels/register-all';
import { patchTorchAdam } from './adam';
import type { TorchAddon } from './addon';
import { TORCH_BACKEND_NAME, TorchBackend } from './backend';
import { atenKernels } from './aten-kernels';
import { hostKernel, storageKernels } from './host-kernels';
import { setReplayAddon } from './replayable-step';
import { torchOpsFor } from './torch-ops';

export const torchKernelStats: KernelStats = new Map();

/** Registers the backend (without selecting it); returns the kernels that run in ATen. */
export function registerTorchBackend(addon: TorchAddon, onCuda: boolean): { kernels: string[] } {
  const stats = torchKernelStats;
  const cpuKernels = tf.getKernelsForBackend('cpu');
  const cpuFuncs = new Map<string, KernelFunc>(cpuKernels.map((k) => [k.kernelName, k.kernelFunc]));
  const { replacing, fused } = deviceKernelConfigs({
    backendName: TORCH_BACKEND_NAME,
    kernels: KERNELS,
    opsFor: torchOpsFor(addon),
    fallbackFor: (name) => {
      const f = cpuFuncs.get(name);
      return f && hostKernel(name, f, stats, false);
    },
    stats,
  });
  const own: KernelConfig[] = [...replacing, ...storageKernels(TORCH_BACKEND_NAME, stats, cpuFuncs.get('Cast')!), ...atenKernels(TORCH_BACKEND_NAME, stats, cpuFuncs), ...fused];
  const ownNames = new Set(own.map((k) => k.kernelName));
  const host = cpuKernels
    .filter((k) => !ownNames.has(k.kernelName))
    .map((k) => ({ ...k, backendName: TORCH_BACKEND_NAME, kernelFunc: hostKernel(k.kernelName, k.kernelFunc, stats, true) }));
  for (const k of [...own, ...host]) {
    if (tf.getKernel(k.kernelName, TORCH_BACKEND_NAME)) tf.unregisterKernel(k.kernelName, TORCH_BACKEND_NAME);
    tf.registerKernel(k);
  }
  // Priority 0: below cpu (1), so registering never changes which backend tfjs picks by itself.
  tf.registerBackend(TORCH_BACKEND_NAME, () => new TorchBackend(addon, onCuda, onCuda || process.env.DLCV_TORCH_STRICT === '1'), 0);
  registerGradients();
  patchTorchAdam(addon, TORCH_BACKEND_NAME, stats);
  setReplayAddon(addon);
  return { kernels: [...ownNames].filter((n) => !fused.some((f) => f.kernelName === n)).sort() };
}
