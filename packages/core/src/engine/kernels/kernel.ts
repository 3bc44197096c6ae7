// A device kernel: one tfjs kernel written against DeviceOps, and the wrapper that registers a
// list of them for a backend. Each tfjs-named kernel handles the cases its device supports and
// otherwise (Unsupported: other dtypes, NCHW, an unsupported broadcast; or a device error of its
// own, not an earlier op's) runs its fallback, the tfjs cpu kernel it replaces, so results never
// depend on coverage.
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

import type { DeviceOps } from './device-ops';

/** A case the device kernel does not handle: the fallback kernel runs instead, silently. */
export class Unsupported extends Error {}

/**
 * The code of a device error that is not the failing kernel's own: an op queued before it failed
 * (the libtorch addon reports such a failure at a later call, or through an op whose input it
 * left unmade). No fallback can make the missing tensor, so the error is thrown, not run around.
 */
export const EARLIER_OP_FAILED = 'DLCV_EARLIER_OP_FAILED';

export interface DeviceKernelArgs {
  inputs: NamedTensorInfoMap;
  attrs: NamedAttrMap;
  ops: DeviceOps;
}

export interface DeviceKernel {
  /** The tfjs kernel name (or one of ours, see `fused`). */
  kernelName: string;
  /** Our own kernel (fused/): no tfjs counterpart, so no fallback and no stats. */
  fused?: boolean;
  run(args: DeviceKernelArgs): TensorInfo | TensorInfo[];
}

export type KernelStats = Map<string, { native: number; fallback: number; lastReason?: string }>;

export interface DeviceRegistration {
  backendName: string;
  kernels: readonly DeviceKernel[];
  /** The device ops over a backend instance (tfjs hands the instance to every kernel call). */
  opsFor(backend: unknown): DeviceOps;
  /** The kernel that runs instead where a device kernel cannot; none: the kernel is not registered. */
  fallbackFor(kernelName: string): KernelFunc | undefined;
  /** Counts of device runs and fallbacks, per tfjs-named kernel (for tests and diagnostics). */
  stats: KernelStats;
}

const NO_ATTRS: NamedAttrMap = Object.freeze({});

type TfjsKernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };

/** The kernel configs of a registration: tfjs-named kernels (with fallbacks) and our fused ones. */
export function deviceKernelConfigs(reg: DeviceRegistration): { replacing: KernelConfig[]; fused: KernelConfig[] } {
  const { backendName, opsFor } = reg;
  const replacing: KernelConfig[] = [];
  const fused: KernelConfig[] = [];
  for (const kernel of reg.kernels) {
    const { kernelName } = kernel;
    if (kernel.fused) {
      const kernelFunc = (({ inputs, backend, attrs }: TfjsKernelArgs) => kernel.run({ inputs, attrs: attrs ?? NO_ATTRS, ops: opsFor(backend) })) as unknown as KernelFunc;
      fused.push({ kernelName, backendName, kernelFunc });
      continue;
    }
    const fallback = reg.fallbackFor(kernelName);
    if (!fallback) continue; // the cpu backend does not have it either: leave it unregistered
    const st: { native: number; fallback: number; lastReason?: string } = { native: 0, fallback: 0 };
    reg.stats.set(kernelName, st);
    const kernelFunc = ((args: TfjsKernelArgs) => {
      try {
        const r = kernel.run({ inputs: args.inputs, attrs: args.attrs ?? NO_ATTRS, ops: opsFor(args.backend) });
        st.native++;
        return r;
      } catch (e) {
        if ((e as { code?: unknown } | null)?.code === EARLIER_OP_FAILED) throw e;
        if (!(e instanceof Unsupported)) {
          // A real device failure: report once per kernel, then keep going on the fallback.
          if (!st.lastReason) console.warn(`${backendName}: ${kernelName} failed natively (${(e as Error).message}); using the cpu kernel`);
        }
        st.fallback++;
        st.lastReason = (e as Error).message;
        return fallback(args as never);
      }
    }) as unknown as KernelFunc;
    replacing.push({ kernelName, backendName, kernelFunc });
  }
  return { replacing, fused };
}
