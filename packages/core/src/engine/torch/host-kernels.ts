// Kernels of the 'dlcv-torch' backend that are not device kernels: the storage kernels (Reshape,
// Identity, Cast) on handles, and the host trip that runs any other tfjs cpu kernel: its inputs
// are downloaded into the tfjs cpu backend, the cpu kernel runs there, and its outputs are
// uploaded as new tensors. The host trip is counted as a fallback in the kernel stats; on CUDA
// (and on the CPU with DLCV_TORCH_STRICT=1, to check coverage without a GPU) it is an error that
// names the kernel instead: a silent device -> host -> device round trip would hide a missing
// ATen kernel behind a slow step.
import * as tf from '@tensorflow/tfjs';
import type { DataType, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

import type { KernelStats } from '../kernels/kernel';
import { DTYPE_CODES, type TorchDtype } from './addon';
import type { TorchBackend } from './backend';

type Args = { inputs: NamedTensorInfoMap | TensorInfo[]; backend: unknown; attrs?: NamedAttrMap };
type CpuBackend = {
  makeTensorInfo(shape: number[], dtype: DataType, values: unknown): TensorInfo;
  readSync(dataId: object): unknown;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
};

/**
 * The cpu kernel `func` run on host copies of the inputs. `count`: add the trip to the kernel's
 * stats (device kernels' fallbacks are counted by kernel.ts already).
 */
export function hostKernel(kernelName: string, func: KernelFunc, stats: KernelStats, count: boolean): KernelFunc {
  return ((args: Args) => {
    const backend = args.backend as TorchBackend;
    const st = stats.get(kernelName) ?? { native: 0, fallback: 0 };
    if (backend.noHostTrips) {
      const why = st.lastReason ? ` for these inputs (${st.lastReason})` : '';
      const where = backend.onCuda ? 'on CUDA' : '(DLCV_TORCH_STRICT=1)';
      throw new Error(`libtorch engine ${where}: kernel ${kernelName} has no ATen implementation${why}; it would run on the host`);
    }
    if (count) {
      st.fallback++;
      stats.set(kernelName, st);
    }
    const cpu = tf.findBackend('cpu') as unknown as CpuBackend;
    // The cpu backend's "install tfjs-node" banner would name the wrong engine.
    (cpu as { firstUse?: boolean }).firstUse = false;
    const temps: TensorInfo[] = [];
    const toHost = (t: TensorInfo | undefined) => {
      if (t == null) return t;
      const h = cpu.makeTensorInfo(t.shape, t.dtype, backend.readSync(t.dataId));
      temps.push(h);
      return h;
    };
    const inputs = Array.isArray(args.inputs) ? args.inputs.map(toHost) : Object.fromEntries(Object.entries(args.inputs).map(([k, t]) => [k, toHost(t)]));
    try {
      const out = func({ inputs, backend: cpu, attrs: args.attrs ?? {} } as never) as TensorInfo | TensorInfo[];
      const outs = Array.isArray(out) ? out : [out];
      const mine = outs.map((o) => backend.fromValues(cpu.readSync(o.dataId) as never, o.shape, o.dtype));
      for (const o of outs) cpu.disposeIntermediateTensorInfo(o);
      return Array.isArray(out) ? mine : mine[0]!;
    } finally {
      for (const t of temps) cpu.disposeIntermediateTensorInfo(t);
    }
  }) as unknown as KernelFunc;
}

/** Counts a storage kernel's runs as device runs. */
function counted(kernelName: string, stats: KernelStats, f: (args: Args, backend: TorchBackend) => TensorInfo): KernelFunc {
  const st = { native: 0, fallback: 0 };
  stats.set(kernelName, st);
  return ((args: Args) => {
    st.native++;
    return f(args, args.backend as TorchBackend);
  }) as unknown as KernelFunc;
}

function shareData(backend: TorchBackend, x: TensorInfo, shape: number[]): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

/** Reshape and Identity share the input's data; Cast converts on the device. */
export function storageKernels(backendName: string, stats: KernelStats, cpuCast: KernelFunc): KernelConfig[] {
  const castStats = { native: 0, fallback: 0 };
  stats.set('Cast', castStats);
  const hostCast = hostKernel('Cast', cpuCast, stats, true);
  const x = (args: Args) => (args.inputs as NamedTensorInfoMap).x!;
  return [
    {
      kernelName: 'Reshape',
      backendName,
      kernelFunc: counted('Reshape', stats, (args, b) => {
        const n = tf.util.sizeFromShape(x(args).shape);
        const shape = tf.util.inferFromImplicitShape(args.attrs!.shape as number[], n);
        if (tf.util.sizeFromShape(shape) !== n) throw new Error(`Reshape: [${x(args).shape}] cannot become [${shape}]`);
        return shareData(b, x(args), shape);
      }),
    },
    { kernelName: 'Identity', backendName, kernelFunc: counted('Identity', stats, (args, b) => shareData(b, x(args), x(args).shape)) },
    {
      kernelName: 'Cast',
      backendName,
      kernelFunc: ((args: Args) => {
        const t = x(args);
        const dtype = args.attrs!.dtype as DataType;
        if (dtype === t.dtype) return shareData(args.backend as TorchBackend, t, t.shape);
        if (!(dtype in DTYPE_CODES) || !(t.dtype in DTYPE_CODES)) return hostCast(args as never);
        const b = args.backend as TorchBackend;
        castStats.native++;
        return b.fromHandle(b.addon.cast(b.handle(t), DTYPE_CODES[dtype as TorchDtype]), t.shape, dtype);
      }) as unknown as KernelFunc,
    },
  ];
}
