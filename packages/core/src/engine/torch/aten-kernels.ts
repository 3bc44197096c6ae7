// Kernels only this engine has in ATen (the native engine leaves them to the tfjs cpu kernels):
// the ones the project's losses, data batching and gradients use besides ../kernels' list, so
// that a training step on CUDA needs no host trip. Each falls back to the host trip for the
// inputs it does not take (host-kernels.ts: an error on CUDA).
import type { DataType, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

import type { KernelStats } from '../kernels/kernel';
import { DTYPE_CODES, type TorchDtype } from './addon';
import type { TorchBackend } from './backend';
import { hostKernel } from './host-kernels';

type Run = (inputs: NamedTensorInfoMap, attrs: NamedAttrMap, b: TorchBackend) => TensorInfo | null;

const stored = (dtype: DataType): dtype is TorchDtype => dtype in DTYPE_CODES;

/** The ATen kernels by name: each returns null for inputs it leaves to the host trip. */
const RUNS: Record<string, Run> = {
  // tf.fill: a constant, filled on the device when a kernel takes it (backend.ts)
  Fill: (_inputs, attrs, b) => {
    const { shape, value, dtype } = attrs as { shape: number[]; value: number | string; dtype: DataType };
    return stored(dtype) && typeof value === 'number' ? (b.fromConstant(shape, value, dtype) ?? null) : null;
  },
  OnesLike: ({ x }, _attrs, b) => (stored(x!.dtype) ? b.fromHandle(b.addon.fill(x!.shape, 1, DTYPE_CODES[x!.dtype]), x!.shape, x!.dtype) : null),
  LogicalAnd: ({ a, b: y }, _attrs, b) => b.fromHandle(b.addon.logical(0, b.handle(a!), b.handle(y!)), tf.backend_util.assertAndGetBroadcastShape(a!.shape, y!.shape), 'bool'),
  LogicalOr: ({ a, b: y }, _attrs, b) => b.fromHandle(b.addon.logical(1, b.handle(a!), b.handle(y!)), tf.backend_util.assertAndGetBroadcastShape(a!.shape, y!.shape), 'bool'),
  LogicalNot: ({ x }, _attrs, b) => b.fromHandle(b.addon.logical(2, b.handle(x!), null), x!.shape, 'bool'),
  OneHot: ({ indices }, attrs, b) => {
    const { depth, onValue, offValue, dtype } = attrs as { depth: number; onValue: number; offValue: number; dtype: DataType };
    if (indices!.dtype !== 'int32' || !stored(dtype)) return null;
    return b.fromHandle(b.addon.oneHot(b.handle(indices!), depth, onValue, offValue, DTYPE_CODES[dtype]), [...indices!.shape, depth], dtype);
  },
  GatherV2: ({ x, indices }, attrs, b) => {
    const { axis, batchDims } = attrs as { axis: number; batchDims: number };
    if (batchDims || indices!.dtype !== 'int32') return null;
    const ax = tf.util.parseAxisParam(axis, x!.shape)[0]!;
    const shape = [...x!.shape.slice(0, ax), ...indices!.shape, ...x!.shape.slice(ax + 1)];
    return b.fromHandle(b.addon.gather(b.handle(x!), b.handle(indices!), ax), shape, x!.dtype);
  },
};

/** Configs for the kernels above that the cpu backend has (the host trip is their fallback). */
export function atenKernels(backendName: string, stats: KernelStats, cpuFuncs: Map<string, KernelFunc>): KernelConfig[] {
  return Object.entries(RUNS)
    .filter(([name]) => cpuFuncs.has(name))
    .map(([kernelName, run]) => {
      const st = { native: 0, fallback: 0 };
      stats.set(kernelName, st);
      const host = hostKernel(kernelName, cpuFuncs.get(kernelName)!, stats, true);
      const kernelFunc = ((args: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap; backend: unknown }) => {
        const out = run(args.inputs, args.attrs ?? {}, args.backend as TorchBackend);
        if (!out) return host(args as never);
        st.native++;
        return out;
      }) as unknown as KernelFunc;
      return { kernelName, backendName, kernelFunc };
    });
}
