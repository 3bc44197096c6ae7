/**
 * Engine (tfjs backend) selection, in one place. Order of preference:
 *   tfjs-node-gpu (when it loads and sees a CUDA device) > libtorch (our ATen addon, see
 *   engine/torch; only when it sees a CUDA device) > tfjs-node > dlcv-native (our oneDNN addon,
 *   see engine/native) > tfjs cpu (pure JS, slow but always there).
 * `DLCV_ENGINE` (or the CLIs' `--engine`) forces one; a forced engine that cannot load is an
 * error, never a silent fallback. Every CLI prints `describeEngine()` once at start.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { installBackwardPass } from '../nn/backward-pass';
import { installTensorInfoStore } from './tensor-info-store';
import { useFastCpuKernels } from './cpu-kernels';
import { checkEngineEnv } from './env-settings';

export const ENGINE_NAMES = ['tfjs-node-gpu', 'libtorch', 'tfjs-node', 'native', 'cpu'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface EngineInfo {
  engine: EngineName;
  /** The tfjs backend name that is active. */
  backend: string;
  threads: number;
  detail: string;
  /** Whether the tensors live on a GPU (host work then runs beside the device's). */
  gpu: boolean;
  /** Why each preferred engine was passed over, for the start-up line and `dlcv-core info`. */
  skipped: { engine: EngineName; reason: string }[];
}

type Attempt = { ok: true; backend: string; threads: number; detail: string; gpu: boolean } | { ok: false; reason: string };

let active: EngineInfo | undefined;

export function parseEngineName(value: string, source: string): EngineName {
  if ((ENGINE_NAMES as readonly string[]).includes(value)) return value as EngineName;
  throw new Error(`${source}: unknown engine "${value}"; choose one of ${ENGINE_NAMES.join(', ')}`);
}

function tryTfjsNode(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node', needGpu: boolean): Attempt {
  try {
    // Optional peer dependency: resolved at run time only where the user installed it.
    require(pkg);
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? String(err);
    return { ok: false, reason: /Cannot find module/.test(msg) && msg.includes(pkg) ? 'not installed' : `failed to load (${msg})` };
  }
  if (!tf.findBackend('tensorflow')) return { ok: false, reason: 'loaded but registered no "tensorflow" backend (version mismatch with @tensorflow/tfjs 4.22?)' };
  const backend = tf.findBackend('tensorflow') as unknown as { isUsingGpuDevice?: boolean; binding?: { isUsingGpuDevice?: () => boolean } };
  const gpu = backend.isUsingGpuDevice ?? backend.binding?.isUsingGpuDevice?.() ?? false;
  if (needGpu && !gpu) return { ok: false, reason: 'loaded but sees no CUDA device' };
  return { ok: true, backend: 'tensorflow', threads: os.availableParallelism(), detail: gpu ? 'libtensorflow on CUDA' : 'libtensorflow on CPU', gpu };
}

function tryNative(): Attempt {
  let mod: { loadNativeBackend?: () => { ok: true; backendName: string; threads: number; detail: string } | { ok: false; reason: string } };
  try {
    mod = require('./native');
  } catch (err) {
    return { ok: false, reason: `not available (${(err as Error).message.split('\n')[0]})` };
  }
  if (typeof mod.loadNativeBackend !== 'function') return { ok: false, reason: 'not built into this version' };
  const res = mod.loadNativeBackend();
  return res.ok ? { ok: true, backend: res.backendName, threads: res.threads, detail: res.detail, gpu: false } : res;
}

/** The libtorch engine; unless forced, only on CUDA (on a CPU the native engine is faster). */
function tryTorch(forced: boolean): Attempt {
  const torch = require('./torch') as typeof import('./torch');
  if (!forced) {
    const found = (require('./torch/addon') as typeof import('./torch/addon')).findTorchAddon();
    if ('error' in found) return { ok: false, reason: found.error };
    if (!torch.cudaDeviceVisible()) return { ok: false, reason: 'no CUDA device visible (DLCV_ENGINE=libtorch runs it on the CPU)' };
  }
  const res = torch.loadTorchBackend();
  if (!res.ok) return res;
  if (!forced && !res.onCuda) return { ok: false, reason: 'libtorch sees no CUDA device (DLCV_ENGINE=libtorch runs it on the CPU)' };
  return { ok: true, backend: res.backendName, threads: res.threads, detail: res.detail, gpu: res.onCuda };
}

function attempt(engine: EngineName, forced: boolean): Attempt {
  switch (engine) {
    case 'tfjs-node-gpu':
      return tryTfjsNode('@tensorflow/tfjs-node-gpu', true);
    case 'libtorch':
      return tryTorch(forced);
    case 'tfjs-node':
      return tryTfjsNode('@tensorflow/tfjs-node', false);
    case 'native':
      return tryNative();
    case 'cpu':
      return { ok: true, backend: 'cpu', threads: 1, detail: 'pure JavaScript, single thread (slow: see README "Engines")', gpu: false };
  }
}

export interface SetupEngineOptions {
  /** Force an engine; defaults to `DLCV_ENGINE` from the environment, else the best available. */
  engine?: EngineName | string;
}

/** Picks and activates the engine; idempotent (later calls return the first choice). */
export async function setupEngine(options: SetupEngineOptions = {}): Promise<EngineInfo> {
  checkEngineEnv();
  const forcedRaw = options.engine ?? process.env.DLCV_ENGINE;
  const forced = forcedRaw ? parseEngineName(forcedRaw, options.engine ? '--engine' : 'DLCV_ENGINE') : undefined;
  if (active && (!forced || forced === active.engine)) return active;

  const skipped: EngineInfo['skipped'] = [];
  const candidates: readonly EngineName[] = forced ? [forced] : ENGINE_NAMES;
  for (const engine of candidates) {
    const res = attempt(engine, forced !== undefined);
    if (!res.ok) {
      if (forced) throw new Error(`engine "${forced}" was requested but cannot be used: ${res.reason}`);
      skipped.push({ engine, reason: res.reason });
      continue;
    }
    if (!(await tf.setBackend(res.backend))) {
      const reason = `backend "${res.backend}" failed to initialise`;
      if (forced) throw new Error(`engine "${forced}" was requested but ${reason}`);
      skipped.push({ engine, reason });
      continue;
    }
    await tf.ready();
    // The cpu backend's "install tfjs-node" banner repeats what our start-up line says better.
    const backendState = tf.backend() as unknown as { firstUse?: boolean };
    if (backendState.firstUse) backendState.firstUse = false;
    // The stock pure-JS weight-gradient kernel is ~40x slower than it needs to be.
    if (res.backend === 'cpu') useFastCpuKernels();
    // Backward passes walk the tape in linear time and free each node's saved tensors and
    // output gradients once it is done.
    installBackwardPass();
    // tfjs's record of each tensor lives on its data id, not in a WeakMap.
    installTensorInfoStore();
    active = { engine, backend: res.backend, threads: res.threads, detail: res.detail, gpu: res.gpu, skipped };
    return active;
  }
  throw new Error('no tfjs engine could be initialised (not even the pure-JS cpu backend)');
}

/** The one line every CLI prints at start. */
export function describeEngine(info: EngineInfo): string {
  const passed = info.skipped.length ? `; passed over: ${info.skipped.map((s) => `${s.engine} (${s.reason})`).join(', ')}` : '';
  return `engine: ${info.engine} [tfjs backend "${info.backend}"], ${info.threads} thread${info.threads === 1 ? '' : 's'}, ${info.detail}${passed}`;
}

export function activeEngine(): EngineInfo | undefined {
  return active;
}
