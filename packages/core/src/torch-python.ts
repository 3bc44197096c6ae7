/** Finding a Python with PyTorch and timing core's PyTorch mirrors of the models (all optional). */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** The first Python that imports torch: `explicit`, $DLCV_PYTHON, python3, then Debian's /usr/bin/python3 (python3-torch). */
export function findTorchPython(explicit?: string): { python?: string; tried: string[] } {
  const candidates = [explicit, process.env.DLCV_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const python of [...new Set(candidates)]) {
    const r = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    tried.push(python);
    if (r.status === 0) return { python, tried };
  }
  return { tried };
}

/**
 * glibc malloc settings for PyTorch CPU processes. By default glibc serves blocks over its mmap
 * threshold (128 KiB, rising to at most 32 MiB) with fresh mmap()s and gives freed heap tops back
 * to the kernel, so each training step's multi-megabyte activations are new pages that fault in
 * and are zeroed by the kernel. PyTorch's CPU allocator calls malloc for every tensor; the
 * engines here keep their own buffer pools. With these settings freed memory stays in the
 * process and is reused (measured on the project's 2-core machine: a DANN training step 1.50 s
 * by default, 0.23 s with them). Values the caller already set are kept.
 */
export const TORCH_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(4 * 1024 ** 3),
  MALLOC_TRIM_THRESHOLD_: String(64 * 1024 ** 3),
  MALLOC_TOP_PAD_: String(1024 ** 3),
};

/** `env` (default: this process's) with TORCH_MALLOC_ENV for the settings it lacks. */
export function torchPythonEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...TORCH_MALLOC_ENV, ...env };
}

/**
 * python/torch_reference.py: the report's DCGAN, U-Net and DANN networks and training steps in
 * PyTorch, shared by every benchmark (and the gan package's reference test imports its networks).
 */
export const TORCH_REFERENCE_SCRIPT = path.join(__dirname, '..', 'python', 'torch_reference.py');

export type TorchCase = 'dcgan_train' | 'dcgan_forward' | 'ddpm_train' | 'ddpm_forward' | 'dann_train' | 'dann_forward';

export interface TorchTimings {
  python: string;
  torch: string;
  threads: number;
  /** The BLAS torch was built for (BLAS_INFO), the libraries it loaded, its oneDNN version. */
  blas: { info: string; libraries: string[]; onednn: string | null };
  cases: Partial<Record<TorchCase, { params: number; seconds: number[] }>>;
}

export interface TorchTimingOptions {
  /** Batch of every case (default: each case's: DCGAN 64, DDPM 32 / 100, DANN 256 + 256). */
  batch?: number;
  /** Batch of the _forward cases (default: `batch`). */
  forwardBatch?: number;
  /** DCGAN ngf = ndf (model A 64). */
  width?: number;
  /** U-Net n_feat (128). */
  nFeat?: number;
  steps?: number;
  warmup?: number;
  /** Intra-op threads; pass the engine's, so a ratio compares implementations, not core counts. */
  threads?: number;
  /** Interpreter to try first (else findTorchPython's order). */
  python?: string;
}

/**
 * Times PyTorch CPU on the given cases, in one child process. Returns why not, as a string, when
 * there is no Python with torch or the script fails.
 */
export function timeTorchReference(cases: TorchCase[], options: TorchTimingOptions = {}): TorchTimings | string {
  const { python, tried } = findTorchPython(options.python);
  if (!python) return `absent (no torch in ${tried.join(', ')}; Debian: apt-get install python3-torch libopenblas0)`;
  const flag = (name: string, v: number | undefined) => (v === undefined ? [] : [`--${name}`, String(v)]);
  const args = [
    '-B',
    TORCH_REFERENCE_SCRIPT,
    'time',
    ...cases,
    ...flag('batch', options.batch),
    ...flag('forward-batch', options.forwardBatch),
    ...flag('width', options.width),
    ...flag('n-feat', options.nFeat),
    ...flag('steps', options.steps),
    ...flag('warmup', options.warmup),
    ...flag('threads', options.threads),
  ];
  const run = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 22, stdio: ['ignore', 'pipe', 'pipe'], env: torchPythonEnv() });
  if (run.status !== 0) return `failed (${python}: ${(run.stderr || run.error?.message || '').trim().split('\n').pop() ?? 'no output'})`;
  try {
    return { python, ...(JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as Omit<TorchTimings, 'python'>) };
  } catch {
    return `failed (unreadable output from ${python}: ${run.stdout.slice(0, 200)})`;
  }
}
