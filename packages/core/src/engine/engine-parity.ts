// One computation run twice, on the tfjs cpu backend and on a device engine, for the packages'
// tests of their whole models on every engine: both results, and the kernels that left the engine
// for the host while it ran (a fallback on the native engine; a host trip on libtorch, which on
// CUDA is an error, so a model that makes one would not run on a GPU).
import * as tf from '@tensorflow/tfjs';

import { setupEngine } from './engine';
import type { KernelStats } from './kernels/kernel';
import { loadNativeBackend, nativeKernelStats } from './native';
import { loadTorchBackend, torchKernelStats } from './torch';

export type DeviceEngineName = 'native' | 'libtorch';

export interface DeviceEngine {
  /** Loads and registers the engine's backend (without selecting it); never throws. */
  load(): { ok: true; backendName: string } | { ok: false; reason: string };
  /** Per-kernel counts of device runs and fallbacks since load. */
  kernelStats(): KernelStats;
  /** With this variable set to 1 (CI), an engine that does not load is an error in the tests, not a skip. */
  requireEnv: string;
}

/** The engines with our own kernels; the kernel specs run on each of them too (kernels/test-utils/engines.ts). */
export const DEVICE_ENGINES: Record<DeviceEngineName, DeviceEngine> = {
  native: { load: loadNativeBackend, kernelStats: nativeKernelStats, requireEnv: 'DLCV_REQUIRE_NATIVE' },
  libtorch: { load: loadTorchBackend, kernelStats: torchKernelStats, requireEnv: 'DLCV_REQUIRE_TORCH' },
};

export type EngineParity<T> =
  | {
      ok: true;
      /** The result on the tfjs cpu backend. */
      cpu: T;
      /** The result on the engine. */
      engine: T;
      /** Kernels that ran on the host instead of the engine, with their counts ("Floor x2"). */
      hostKernels: string[];
      /**
       * What the run on the engine left behind: its backend's tensors (tfjs data ids) and, on
       * libtorch, the addon's tensor handles. A run that disposes what it makes leaves 0 of each.
       */
      left: Held;
    }
  | { ok: false; reason: string };

/** What a backend holds: its tensors (tfjs data ids) and, on libtorch, the addon's live tensor handles. */
export interface Held {
  dataIds: number;
  handles: number;
}

/** What `backend` holds now; a run that disposes what it makes leaves both counts as they were. */
export function heldBy(backend: tf.KernelBackend): Held {
  const addon = (backend as unknown as { addon?: { info(): { handles?: number } } }).addon;
  return { dataIds: backend.numDataIds(), handles: addon?.info().handles ?? 0 };
}

const fallbacks = (stats: KernelStats) => new Map([...stats].map(([name, s]) => [name, s.fallback]));

/**
 * `run()` on the cpu backend, then on `engine`; `run` builds everything it uses from fixed seeds,
 * so the two runs differ only by their kernels. Where the engine does not load the result says
 * why, unless its DLCV_REQUIRE_NATIVE / DLCV_REQUIRE_TORCH is 1 (as in CI): then it throws. The
 * cpu backend is active again afterwards.
 */
export async function runOnCpuAndEngine<T>(engine: DeviceEngineName, run: () => Promise<T>): Promise<EngineParity<T>> {
  const entry = DEVICE_ENGINES[engine];
  const loaded = entry.load();
  if (!loaded.ok) {
    if (process.env[entry.requireEnv] === '1') throw new Error(`${entry.requireEnv}=1 but the ${engine} engine does not load: ${loaded.reason}`);
    return { ok: false, reason: loaded.reason };
  }
  await setupEngine({ engine: 'cpu' });
  const cpu = await run();
  const fallbacksBefore = fallbacks(entry.kernelStats());
  await tf.setBackend(loaded.backendName);
  const backend = tf.backend();
  const before = heldBy(backend);
  let result: T;
  let left: Held;
  try {
    result = await run();
    const after = heldBy(backend);
    left = { dataIds: after.dataIds - before.dataIds, handles: after.handles - before.handles };
  } finally {
    await tf.setBackend('cpu');
  }
  const hostKernels = [...fallbacks(entry.kernelStats())]
    .filter(([name, n]) => n > (fallbacksBefore.get(name) ?? 0))
    .map(([name, n]) => `${name} x${n - (fallbacksBefore.get(name) ?? 0)}`);
  return { ok: true, cpu, engine: result, hostKernels, left };
}

/** The largest |a - b| / max(1, |b|) over two equally long arrays of numbers; Infinity for any NaN. */
export function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxRelativeDifference: ${a.length} values against ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
    if (Number.isNaN(d)) return Infinity;
    worst = Math.max(worst, d);
  }
  return worst;
}
