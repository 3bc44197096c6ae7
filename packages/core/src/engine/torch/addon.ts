// Locating and loading the libtorch addon (packages/core/build/Release/dlcv_torch.node), and its
// N-API surface. Tensors are opaque handles (numbers naming an at::Tensor on the engine's device,
// native-torch/src/handles.cc); every op returns new handles, except the *InPlace ones.
import * as fs from 'fs';
import * as path from 'path';

/**
 * An at::Tensor owned by the addon, named by a number (never 0): it lives until `free` releases
 * it, and from then on the handle is refused (freeing it again does nothing).
 */
export type Handle = number & { readonly __torchHandle: unique symbol };
type H = Handle;
type Ints = number[];
type Values = Float32Array | Int32Array | Uint8Array;

/** tfjs dtypes the addon stores, by code. */
export const DTYPE_CODES = { float32: 0, int32: 1, bool: 2 } as const;
export type TorchDtype = keyof typeof DTYPE_CODES;

export interface TorchInfo {
  torch: string;
  /** The file (links resolved) of the BLAS library ATen's CPU matrix products call; '' where none is a library of its own (MKL linked in). */
  blas: string;
  threads: number;
  device: 'cpu' | 'cuda';
  gpus: number;
  /** CUDA runtime and cuDNN versions as integers (e.g. 12080, 91000); 0 without CUDA. */
  cudaRuntime: number;
  cudnn: number;
  tf32: number;
  /** 1 when cuDNN and ATen take their deterministic algorithms (the default). */
  deterministic: number;
  /** 1 when ATen's CPU convolutions go through oneDNN (setOneDnn; the default). */
  oneDnn: number;
  /** 1 when the op queue is on (setQueue). */
  queue: number;
  /** Microseconds the op thread polls for the next op before it sleeps (setQueueSpin). */
  queueSpin: number;
  /**
   * Freed handles whose tensors wait to be released: with the queue on, a free rides with the
   * next op queued (the op thread releases them before it runs that op), or once 256 wait, in a
   * task of its own.
   */
  releasesWaiting: number;
  /** Handles made and not yet freed (a count that grows over steps is a leak). */
  handles: number;
}

export interface TorchAddon {
  info(): TorchInfo;
  setDevice(device: 'cpu' | 'cuda'): void;
  setTf32(on: number): void;
  /** Reproducible CUDA results (deterministic cuDNN and ATen algorithms), or the fastest ones. */
  setDeterministic(on: number): void;
  /** 1: ATen's CPU convolutions through oneDNN (the default); 0: through ATen's own im2col and matrix multiplies. CUDA's do not depend on it. */
  setOneDnn(on: number): void;
  setThreads(n: number): void;
  /**
   * 1: ops run on the addon's op thread in call order while JavaScript goes on (handles return at
   * once; an op's error is thrown by the next call that queues or reads); 0: each call runs its op.
   */
  setQueue(on: number): void;
  /**
   * How long the op thread, finding no op queued, polls for the next before it sleeps (microseconds,
   * 0 to 10,000; 0: at once). A sleeping op thread costs the next call that queues a wake-up.
   */
  setQueueSpin(us: number): void;
  /**
   * 1: time each op where it runs (the op thread, or the call with the queue off): its ATen work
   * without the argument parsing, a read's with its wait for the device; 0 (the default): no
   * timing. Either way the times so far are dropped.
   */
  setOpTiming(on: number): void;
  /** Op name -> [ops, ms] of the ops run since the last take (or setOpTiming), after the queued ones; the totals restart. */
  takeOpTimes(): Record<string, [number, number]>;
  /** Starts Kineto's profiler (torch.profiler's) on the thread that runs the ops, after the queued ones; on CUDA it records the GPU too. */
  startAtenProfile(): void;
  /**
   * Stops it: [name, onDevice (1: a kernel, copy or fill on the GPU), microseconds, start (us), thread,
   * correlation, linked correlation] of each event since the start; each op of the addon is one event,
   * dlcv::<op>, enclosing its ATen calls; a GPU event's linked correlation is the launching ATen op's correlation.
   */
  stopAtenProfile(): [string, number, number, number, number, number, number][];
  /** 0: convolutions on channels-last views of the NHWC data (the default); 1: on contiguous NCHW copies. */
  setConvLayout(nchw: number): void;
  /**
   * [forward, input gradient, filter gradient] of two small 3x3 layers (8 and 1 input channels)
   * in the layout of setConvLayout(nchw) on the engine's device: the largest difference from
   * float64's over its largest magnitude, the larger layer's (fp32's rounding is near 1e-7, TF32's
   * near 1e-3; NaN where a result is).
   */
  convLayoutError(nchw: number): [number, number, number];
  /** The native addon's op code tables (op_codes.h). */
  opCodes(): Record<'unary' | 'unaryGrad' | 'binary' | 'compare' | 'reduce', Record<string, number>>;
  upload(values: Values, shape: Ints, dtype: number): H;
  download(h: H, out: Values): void;
  /** download() on a libuv thread: JavaScript runs on while the device finishes. */
  downloadAsync(h: H, out: Values): Promise<void>;
  free(h: H): void;
  view(h: H, shape: Ints): H;
  cast(h: H, dtype: number): H;
  clone(h: H): H;
  fill(shape: Ints, value: number, dtype: number): H;
  /** A float32 tensor: 0 where the i-th uniform of the Rng at state ([stateHi, stateLo, incHi, incLo]) is below p, else value. */
  dropoutMask(shape: Ints, state: Ints, p: number, value: number): H;
  /** Waits for the device's queued work. */
  sync(): void;
  /** params: n,h,w,c, kh,kw,o, oh,ow, sh,sw, pt,pb,pl,pr, dh,dw (the native addon's) */
  conv2d(x: H, w: H, params: Ints, bias: H | null): H;
  conv2dBackpropInput(dy: H, w: H, params: Ints): H;
  conv2dBackpropFilter(x: H, dy: H, params: Ints): H;
  matmul(a: H, b: H, batchA: number, batchB: number, m: number, k: number, n: number, transA: number, transB: number, outShape: Ints): H;
  binary(op: number, a: H, b: H): H;
  /** op(x, value), or op(value, x) when scalarFirst is 1; add, sub and multiply only. */
  binaryScalar(op: number, x: H, value: number, scalarFirst: number): H;
  binaryInPlace(op: number, target: H, b: H): void;
  compare(op: number, a: H, b: H): H;
  unary(op: number, x: H, alpha: number, beta: number): H;
  unaryInPlace(op: number, x: H, alpha: number, beta: number): void;
  unaryGrad(op: number, dy: H, saved: H, alpha: number): H;
  select(cond: H, a: H, b: H): H;
  /** op: 0 and, 1 or, 2 not (b null) */
  logical(op: number, a: H, b: H | null): H;
  gather(x: H, indices: H, axis: number): H;
  oneHot(indices: H, depth: number, on: number, off: number, dtype: number): H;
  reduce(op: number, x: H, axes: Ints, outShape: Ints): H;
  argReduce(isMax: number, x: H, axis: number, outShape: Ints): H;
  transpose(x: H, perm: Ints): H;
  tile(x: H, reps: Ints): H;
  slice(x: H, begin: Ints, size: Ints): H;
  pad(x: H, before: Ints, outShape: Ints, value: number): H;
  concat(xs: H[], axis: number): H;
  /** params: n,h,w,c, oh,ow, kh,kw, sh,sw, pt,pl, dh,dw (the native addon's) */
  maxPool(x: H, params: Ints): H;
  maxPoolGrad(dy: H, x: H, params: Ints): H;
  avgPool(x: H, params: Ints): H;
  avgPoolGrad(dy: H, params: Ints): H;
  batchNorm(x: H, mean: H, variance: H, scale: H | null, offset: H | null, eps: number): H;
  batchNormTrain(x: H, scale: H, offset: H, eps: number): H[];
  batchNormTrainGrad(dy: H, x: H, scale: H, mean: H, invStd: H): H[];
  groupNorm(x: H, scale: H, offset: H, groups: number, eps: number): H[];
  groupNormGrad(dy: H, x: H, scale: H, mean: H, invStd: H, groups: number): H[];
  /** [runnings[i] * keep + (values[i] * scales[i]) * take]: ATen foreach ops (float32 factors; scales null: none). */
  runningAverages(runnings: H[], values: H[], keep: number, take: number, scales: number[] | null): H[];
  /**
   * [x'..., m'..., v'..., accBeta1 * beta1, accBeta2 * beta2]. fused 0: tfjs's arithmetic in ATen
   * foreach ops, biasCorrection1/2 being 1 - accBeta1/2 as float32 values; 1: ATen's _fused_adam_
   * at step t (tfjs's iterations + 1), an error on a device without that kernel.
   */
  adam(
    values: H[],
    grads: H[],
    ms: H[],
    vs: H[],
    accBeta1: H,
    accBeta2: H,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    biasCorrection1: number,
    biasCorrection2: number,
    fused: number,
    t: number,
  ): H[];
  /** 1 where this libtorch has a _fused_adam_ kernel for the device (CUDA since 1.13, the CPU since 2.4). */
  fusedAdamKernels(): { cpu: number; cuda: number };
}

const releaseDir = path.resolve(__dirname, '..', '..', '..', 'build', 'Release');

/** Where the addon may be: $DLCV_TORCH_PATH, then build/Release of the core package. */
export function torchAddonCandidates(): string[] {
  const out: string[] = [];
  if (process.env.DLCV_TORCH_PATH) out.push(path.resolve(process.env.DLCV_TORCH_PATH));
  // src/engine/torch (jest, ts) and dist/engine/torch (built) are both three levels below core.
  out.push(path.join(releaseDir, 'dlcv_torch.node'));
  return out;
}

/** The addon file, or why there is none (the build step's reason when it skipped), without loading it. */
export function findTorchAddon(): { file: string } | { error: string } {
  if (process.env.DLCV_TORCH === '0') return { error: 'libtorch engine disabled (DLCV_TORCH=0)' };
  const candidates = torchAddonCandidates();
  const file = candidates.find((p) => fs.existsSync(p));
  if (file) return { file };
  // The build step leaves its one-line reason beside where the addon would be.
  const skipped = path.join(releaseDir, 'dlcv_torch.skipped.txt');
  const why = fs.existsSync(skipped) ? fs.readFileSync(skipped, 'utf8').trim() : 'run `node packages/core/scripts/build-torch.js`';
  return { error: `not built (${why})` };
}

export function loadTorchAddon(): { addon: TorchAddon; file: string } | { error: string } {
  const found = findTorchAddon();
  if ('error' in found) return found;
  try {
    const addon = require(found.file) as TorchAddon;
    addon.info();
    return { addon, file: found.file };
  } catch (e) {
    return { error: `addon at ${found.file} failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}
