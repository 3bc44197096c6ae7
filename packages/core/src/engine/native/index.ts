// Entry point of the native CPU engine. Importing this module does nothing; loadNativeBackend()
// loads the addon, registers the 'dlcv-native' backend (without selecting it) and never throws.
import type { NativeAddon } from './addon';

export type NativeBackendResult = { ok: true; backendName: string; threads: number; detail: string } | { ok: false; reason: string };

let cached: NativeBackendResult | null = null;
let cachedAddon: NativeAddon | null = null;

export const NATIVE_BACKEND = 'dlcv-native';

export function loadNativeBackend(): NativeBackendResult {
  if (cached) return cached;
  try {
    // Lazy requires: nothing (not even tfjs) is loaded until asked for.
    const { loadAddon } = require('./addon') as typeof import('./addon');
    const loaded = loadAddon();
    if ('error' in loaded) return (cached = { ok: false, reason: loaded.error });
    const { registerNativeBackend, NATIVE_BACKEND_NAME } = require('./backend') as typeof import('./backend');
    const { kernels } = registerNativeBackend(loaded.addon);
    const info = loaded.addon.info();
    cachedAddon = loaded.addon;
    cached = {
      ok: true,
      backendName: NATIVE_BACKEND_NAME,
      threads: info.threads,
      detail: `${info.dnnl}, OpenMP ${info.threads} threads, ${kernels.length} native kernels (${loaded.file})`,
    };
    return cached;
  } catch (e) {
    return (cached = { ok: false, reason: `native backend failed to register: ${(e as Error).message}` });
  }
}

/** The loaded addon (after a successful loadNativeBackend), for benchmarks and diagnostics. */
export function nativeAddon(): NativeAddon | null {
  return cachedAddon;
}

/** Per-kernel counts of native runs and cpu fallbacks since load. */
export function nativeKernelStats(): Map<string, { native: number; fallback: number; lastReason?: string }> {
  if (!cached || !cached.ok) return new Map();
  return (require('./backend') as typeof import('./backend')).kernelStats;
}

let opsModule: typeof import('./ops') | null = null;
/** ops.ts, required on first use (it loads tfjs) and kept: the layers call these every step. */
function ops(): typeof import('./ops') {
  return (opsModule ??= require('./ops') as typeof import('./ops'));
}

/**
 * Exact GELU; one native kernel (forward and backward) on the native backend, the tfjs
 * composition elsewhere. Lazily loads tfjs on first call.
 */
export function gelu<T extends import('@tensorflow/tfjs').Tensor>(x: T): T {
  return ops().gelu(x);
}

/** The mean binary cross-entropy of logits against a constant target 0 or 1; see ops.ts. */
export function binaryCrossEntropyWithLogits(
  ...args: Parameters<typeof import('./ops').binaryCrossEntropyWithLogits>
): ReturnType<typeof import('./ops').binaryCrossEntropyWithLogits> {
  return ops().binaryCrossEntropyWithLogits(...args);
}

/** tf.losses.sigmoidCrossEntropy with its defaults, fused where the engine can; see ops.ts. */
export function sigmoidCrossEntropy(...args: Parameters<typeof import('./ops').sigmoidCrossEntropy>): ReturnType<typeof import('./ops').sigmoidCrossEntropy> {
  return ops().sigmoidCrossEntropy(...args);
}

/** tf.losses.softmaxCrossEntropy with its defaults, fused where the engine can; see ops.ts. */
export function softmaxCrossEntropy(...args: Parameters<typeof import('./ops').softmaxCrossEntropy>): ReturnType<typeof import('./ops').softmaxCrossEntropy> {
  return ops().softmaxCrossEntropy(...args);
}

/** Training-mode batch norm over all but the last axis; see ops.ts. */
export function batchNormTrain(...args: Parameters<typeof import('./ops').batchNormTrain>): ReturnType<typeof import('./ops').batchNormTrain> {
  return ops().batchNormTrain(...args);
}

/** torch.nn.GroupNorm on NHWC tensors; see ops.ts. */
export function groupNorm(...args: Parameters<typeof import('./ops').groupNorm>): ReturnType<typeof import('./ops').groupNorm> {
  return ops().groupNorm(...args);
}

/** A dropout mask drawn from core's Rng (by the engine's addon where it can); see ops.ts. */
export function dropoutMask(...args: Parameters<typeof import('./ops').dropoutMask>): ReturnType<typeof import('./ops').dropoutMask> {
  return ops().dropoutMask(...args);
}

/** One step of many running averages at once (an EMA of a model's weights); see ops.ts. */
export function runningAverages(...args: Parameters<typeof import('./ops').runningAverages>): ReturnType<typeof import('./ops').runningAverages> {
  return ops().runningAverages(...args);
}

/** One step of a running average (BatchNorm's running statistics); see ops.ts. */
export function runningAverage(...args: Parameters<typeof import('./ops').runningAverage>): ReturnType<typeof import('./ops').runningAverage> {
  return ops().runningAverage(...args);
}
