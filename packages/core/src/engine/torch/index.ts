// Entry point of the libtorch engine. Importing this module does nothing; loadTorchBackend()
// loads the addon, picks the device (CUDA when libtorch sees one, unless DLCV_TORCH_DEVICE=cpu),
// registers the 'dlcv-torch' backend (without selecting it) and never throws.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { envChoice, envThreads, parseEnvChoice } from '../env-settings';
import type { KernelStats } from '../kernels/kernel';
import type { TorchAddon, TorchInfo } from './addon';

export type TorchBackendResult = { ok: true; backendName: string; threads: number; onCuda: boolean; detail: string } | { ok: false; reason: string };

let cached: TorchBackendResult | null = null;
let cachedAddon: TorchAddon | null = null;

/** Whether a CUDA device may be visible, without loading libtorch (the engine order asks this first). */
export function cudaDeviceVisible(): boolean {
  const visible = process.env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && (visible.trim() === '' || visible.trim() === '-1')) return false;
  return fs.existsSync('/dev/nvidiactl') || fs.existsSync('/proc/driver/nvidia/version');
}

/** 12080 -> 12.8; cuDNN 90100 -> 9.1.0 and 8902 -> 8.9.2. */
function cudaVersions(info: TorchInfo): string {
  const rt = `CUDA ${Math.floor(info.cudaRuntime / 1000)}.${Math.floor((info.cudaRuntime % 1000) / 10)}`;
  const v = info.cudnn;
  const major = v >= 90000 ? Math.floor(v / 10000) : Math.floor(v / 1000);
  const rest = v >= 90000 ? v % 10000 : v % 1000;
  return `${rt}, ${v ? `cuDNN ${major}.${Math.floor(rest / 100)}.${rest % 100}` : 'no cuDNN'}`;
}

function gpuName(): string {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader', '-i', '0'], { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim().split('\n')[0] || 'GPU 0';
  } catch {
    return 'GPU 0';
  }
}

/** How long the op thread polls for the next op before it sleeps, on CUDA (microseconds). */
const QUEUE_SPIN_US_CUDA = 200;

/** DLCV_TORCH_QUEUE: 1 runs the ops on the addon's op thread (the default), 0 inside each call. */
function queueWanted(): number {
  return envChoice('DLCV_TORCH_QUEUE') === '0' ? 0 : 1;
}

/** Whether this libtorch has ATen's fused Adam kernel for the engine's device (CUDA since 1.13, the CPU since 2.4). */
function hasFusedAdam(addon: TorchAddon, onCuda: boolean): boolean {
  return addon.fusedAdamKernels()[onCuda ? 'cuda' : 'cpu'] === 1;
}

function checkFusedAdam(addon: TorchAddon, onCuda: boolean, asked = ''): void {
  if (!hasFusedAdam(addon, onCuda)) throw new Error(`${asked}libtorch ${addon.info().torch} has no fused Adam kernel (_fused_adam_) for ${onCuda ? 'CUDA' : 'the CPU'}`);
}

/**
 * DLCV_TORCH_ADAM: fused (ATen's fused Adam kernel, an error where the device has none), foreach
 * (tfjs's arithmetic in ATen foreach ops), or unset: fused where the device has the kernel.
 */
export function adamFusedWanted(addon: TorchAddon, onCuda: boolean, raw = process.env.DLCV_TORCH_ADAM): boolean {
  const v = parseEnvChoice('DLCV_TORCH_ADAM', raw);
  if (v === 'fused') checkFusedAdam(addon, onCuda, 'DLCV_TORCH_ADAM=fused, but ');
  return v === undefined ? hasFusedAdam(addon, onCuda) : v === 'fused';
}

/** Above this a layout's convLayoutError is a wrong result, not rounding (TF32's stays near 1e-3). */
const CONV_LAYOUT_TOLERANCE = 1e-2;

/** The first part of a convLayoutError that is wrong (over the tolerance, or NaN), or -1 where none is. */
export function wrongConvPart(error: readonly number[]): number {
  return error.findIndex((e) => !(e <= CONV_LAYOUT_TOLERANCE));
}

/** What a layout's convolutions get wrong on the engine's device (addon.convLayoutError), or undefined where they are right. */
function convLayoutFault(addon: TorchAddon, nchw: boolean): string | undefined {
  const error = addon.convLayoutError(nchw ? 1 : 0);
  const wrong = wrongConvPart(error);
  if (wrong < 0) return undefined;
  const part = ['forward', 'input gradient', 'filter gradient'][wrong];
  const off = Number.isNaN(error[wrong]) ? 'is not a number' : `is off by ${Math.round(100 * error[wrong]!)}% of its largest value`;
  return `a small 3x3 layer's ${part} ${off}`;
}

/**
 * Sets the convolutions' layout and whether ATen's CPU convolutions go through oneDNN, after
 * checking that this libtorch computes them right on the engine's device (addon.convLayoutError);
 * an error naming the part it gets wrong where not. DLCV_TORCH_CONV_LAYOUT: nchw (contiguous NCHW
 * copies), or nhwc or unset (channels-last views). DLCV_TORCH_ONEDNN: 1 (oneDNN), 0 (ATen's own kernels), or unset:
 * oneDNN, unless on the CPU the layout's check fails with it and passes without it (Debian
 * trixie's libtorch 2.6.0, whose oneDNN gives wrong input gradients). Returns the engine line's
 * note on the convolutions ('' for the defaults).
 */
export function settleConvolutions(addon: TorchAddon, onCuda: boolean, env: NodeJS.ProcessEnv = process.env): string {
  const asked = parseEnvChoice('DLCV_TORCH_ONEDNN', env.DLCV_TORCH_ONEDNN);
  const nchw = parseEnvChoice('DLCV_TORCH_CONV_LAYOUT', env.DLCV_TORCH_CONV_LAYOUT) === 'nchw';
  let note = nchw ? ', convolutions on NCHW copies (DLCV_TORCH_CONV_LAYOUT=nchw)' : '';
  if (asked === '0') note += ", ATen's own CPU convolutions (DLCV_TORCH_ONEDNN=0)";
  addon.setOneDnn(asked === '0' ? 0 : 1);
  let fault = convLayoutFault(addon, nchw);
  if (fault && asked === undefined && !onCuda) {
    addon.setOneDnn(0);
    if (convLayoutFault(addon, nchw) === undefined) {
      note += `, ATen's own CPU convolutions (through oneDNN ${fault}; DLCV_TORCH_ONEDNN=1 insists on oneDNN)`;
      fault = undefined;
    } else {
      addon.setOneDnn(1);
      fault += ", through oneDNN and through ATen's own kernels";
    }
  }
  if (fault) {
    const layout = nchw ? 'NCHW copies (DLCV_TORCH_CONV_LAYOUT=nchw; unset it for the default layout)' : 'channels-last views';
    throw new Error(`libtorch ${addon.info().torch} computes convolutions on ${layout} wrongly here: ${fault}`);
  }
  addon.setConvLayout(nchw ? 1 : 0);
  return note;
}

/**
 * The reference (netlib) BLAS among these library files, or undefined: Debian installs it as
 * .../blas/libblas.so.3, the system's libblas.so.3 until an optimised one (OpenBLAS) is installed.
 * Debian's libtorch and python3-torch multiply through it, several times slower on the CPU.
 */
export function referenceBlas(files: readonly string[]): string | undefined {
  return files.find((f) => path.basename(path.dirname(f)) === 'blas' && path.basename(f).startsWith('libblas'));
}

function settleDevice(addon: TorchAddon): { onCuda: boolean; threads: number; convolutions: string } {
  const wanted = envChoice('DLCV_TORCH_DEVICE');
  const onCuda = wanted ? wanted === 'cuda' : addon.info().gpus > 0;
  if (onCuda) addon.setDevice('cuda');
  // TF32 (cuBLAS and cuDNN) only when asked: fp32 results by default, as on the CPU.
  addon.setTf32(envChoice('DLCV_TF32') === '1' ? 1 : 0);
  // The same bytes for the same seed on CUDA too, unless the fastest algorithms are asked for.
  addon.setDeterministic(envChoice('DLCV_TORCH_DETERMINISTIC') === '0' ? 0 : 1);
  // Convolutions on channels-last views of the NHWC data, or on contiguous NCHW copies, the
  // layout PyTorch's models run in (DLCV_TORCH_CONV_LAYOUT=nchw: to compare the two on a GPU),
  // each checked against float64 first.
  const convolutions = settleConvolutions(addon, onCuda);
  const threads = envThreads() ?? os.availableParallelism();
  // The op queue before the thread count, which it applies to its own thread.
  addon.setQueue(queueWanted());
  // On CUDA the op thread's ops are mostly launches, quicker than the JavaScript between them, so
  // it often finds the queue empty: it polls for the next op a while instead of sleeping, which
  // would cost the call that queues it a wake-up (about 1.4 us a call on the 2-core CPU build:
  // tools/bench/queue-handover.js). On the CPU the ops' arithmetic keeps it busy, and a polling
  // thread would take a core from ATen's.
  addon.setQueueSpin(onCuda ? QUEUE_SPIN_US_CUDA : 0);
  addon.setThreads(threads);
  return { onCuda, threads, convolutions };
}

export function loadTorchBackend(): TorchBackendResult {
  if (cached) return cached;
  try {
    // Lazy requires: nothing (not even tfjs) is loaded until asked for.
    const { loadTorchAddon } = require('./addon') as typeof import('./addon');
    const loaded = loadTorchAddon();
    if ('error' in loaded) return (cached = { ok: false, reason: loaded.error });
    const { onCuda, threads, convolutions } = settleDevice(loaded.addon);
    const fusedAdam = adamFusedWanted(loaded.addon, onCuda);
    const { registerTorchBackend } = require('./register') as typeof import('./register');
    const { TORCH_BACKEND_NAME } = require('./backend') as typeof import('./backend');
    const { kernels } = registerTorchBackend(loaded.addon, onCuda);
    (require('./adam') as typeof import('./adam')).setFusedAdamSteps(fusedAdam);
    const info = loaded.addon.info();
    cachedAddon = loaded.addon;
    const determinism = info.deterministic ? 'deterministic' : 'nondeterministic (DLCV_TORCH_DETERMINISTIC=0)';
    const blas = referenceBlas([info.blas]);
    const slowBlas = blas ? `, the reference BLAS (${blas}): matrix products several times slower than OpenBLAS's (Debian: apt-get install libopenblas0)` : '';
    const where = onCuda ? `on CUDA (${gpuName()}), ${cudaVersions(info)}, TF32 ${info.tf32 ? 'on' : 'off'}, ${determinism}` : `on CPU${slowBlas}`;
    const queue = info.queue ? '' : ', ops run inside each call (DLCV_TORCH_QUEUE=0)';
    const adam = fusedAdam ? ", ATen's fused Adam" : `, Adam in ATen foreach ops${envChoice('DLCV_TORCH_ADAM') === 'foreach' ? ' (DLCV_TORCH_ADAM=foreach)' : ''}`;
    const detail = `libtorch ${info.torch} ${where}${convolutions}${queue}${adam}, ${kernels.length} ATen kernels (${loaded.file})`;
    return (cached = { ok: true, backendName: TORCH_BACKEND_NAME, threads, onCuda, detail });
  } catch (e) {
    return (cached = { ok: false, reason: `libtorch backend failed to register: ${(e as Error).message}` });
  }
}

/** The loaded addon (after a successful loadTorchBackend), for benchmarks and diagnostics. */
export function torchAddon(): TorchAddon | null {
  return cachedAddon;
}

/**
 * Adam steps on the loaded engine from now on with ATen's fused kernel (an error where its device
 * has none) or with tfjs's arithmetic in ATen foreach ops, as DLCV_TORCH_ADAM sets at load.
 */
export function setTorchAdamFused(fused: boolean): void {
  if (!cached || !cached.ok || !cachedAddon) throw new Error('the libtorch engine is not loaded');
  if (fused) checkFusedAdam(cachedAddon, cached.onCuda);
  (require('./adam') as typeof import('./adam')).setFusedAdamSteps(fused);
}

/** Whether the loaded engine's Adam steps take ATen's fused kernel. */
export function torchAdamFused(): boolean {
  return (require('./adam') as typeof import('./adam')).fusedAdamSteps();
}

/** Per-kernel counts of ATen runs and host trips since load. */
export function torchKernelStats(): KernelStats {
  if (!cached || !cached.ok) return new Map();
  return (require('./register') as typeof import('./register')).torchKernelStats;
}
