// The operations a device (an engine's tensor storage and compute) provides to the kernels in
// this folder. Kernels translate tfjs inputs and attributes into these calls; they never touch
// tensor memory. The native CPU engine implements them over the dlcv_native addon
// (native/addon-ops.ts); another engine implements them over its own tensors and registers the
// same kernel list (register-all.ts).
//
// Conventions: tensors are tfjs TensorInfos of the engine's backend; every returned TensorInfo is
// a new tensor the caller owns; output shapes are computed by the kernel and passed in (the
// device only checks what it needs); arrays passed in are read during the call only. A device
// throws `Unsupported` (kernel.ts) for inputs it cannot take (a dtype, a storage), and the
// kernel then runs on its fallback.
import type { TensorInfo, backend_util } from '@tensorflow/tfjs';

/** Elementwise unary ops, by tfjs kernel name (Gelu: exact, erf-based). */
export const UNARY_OPS = [
  'Relu',
  'Relu6',
  'LeakyRelu',
  'Elu',
  'Sigmoid',
  'Tanh',
  'Exp',
  'Log',
  'Neg',
  'Sqrt',
  'Rsqrt',
  'Square',
  'Abs',
  'Erf',
  'Reciprocal',
  'Softplus',
  'Step',
  'Log1p',
  'Expm1',
  'Sign',
  'Selu',
  'ClipByValue',
  'Gelu',
] as const;
/** Activation gradients, by forward op: saved is the forward input, or output for Elu, Sigmoid, Tanh. */
export const UNARY_GRAD_OPS = ['Elu', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Gelu'] as const;
/** Broadcasting binary ops (Prelu: x < 0 ? alpha * x : x). */
export const BINARY_OPS = ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'SquaredDifference', 'Pow', 'Prelu'] as const;
/** Broadcasting comparisons (bool results). */
export const COMPARE_OPS = ['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual'] as const;
export const REDUCE_OPS = ['Sum', 'Mean', 'Max', 'Min', 'Prod'] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type UnaryGradOp = (typeof UNARY_GRAD_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type CompareOp = (typeof COMPARE_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** tfjs's convolution and pooling geometry (backend_util.computeConv2DInfo / computePool2DInfo), NHWC. */
export type Conv2DInfo = backend_util.Conv2DInfo;

/** A (batched) matrix product out[..., m, n] = op(a)[..., m, k] x op(b)[..., k, n]. */
export interface MatMulGeometry {
  /** Batch sizes of a and b: equal, or one of them 1 (broadcast). */
  batchA: number;
  batchB: number;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  outShape: number[];
}

type T = TensorInfo;

/** An Rng's state as its four uint32 halves: [stateHi, stateLo, incHi, incLo] (Rng.getState()). */
export type RngStateParts = [number, number, number, number];

export interface DeviceOps {
  /** Throws Unsupported unless the device can take every tensor given (null ones are skipped). */
  accept(...tensors: (T | null | undefined)[]): void;
  /** Frees a tensor a kernel made and does not return. */
  dispose(t: T): void;
  clone(x: T): T;
  /** A float32 tensor of `shape`, every element `value`. */
  fill(shape: number[], value: number): T;
  /**
   * A float32 dropout mask of `shape`: element i is 0 where the i-th uniform of core's Rng at
   * `state` (Rng.next(), two uint32 draws each) is below p, else `value`.
   */
  dropoutMask(shape: number[], state: RngStateParts, p: number, value: number): T;

  /** Convolution (filter HWIO), plus a per-output-channel bias when given. */
  conv2d(x: T, filter: T, info: Conv2DInfo, bias: T | null): T;
  /** dx of conv2d, shape info.inShape. */
  conv2dBackpropInput(dy: T, filter: T, info: Conv2DInfo): T;
  /** dfilter of conv2d, shape info.filterShape. */
  conv2dBackpropFilter(x: T, dy: T, info: Conv2DInfo): T;
  matMul(a: T, b: T, g: MatMulGeometry): T;

  binary(op: BinaryOp, a: T, b: T, outShape: number[]): T;
  /** target = op(target, b), b broadcast to target's shape. */
  binaryInPlace(op: BinaryOp, target: T, b: T): void;
  /**
   * runnings[i] * keep + (values[i] * scales[i]) * take for each i (same shapes; no scales:
   * values[i] * take), keep, take and the scales float32 values: DlcvRunningAverage's float32
   * multiplies and add, in its order.
   */
  runningAverages(runnings: T[], values: T[], keep: number, take: number, scales: number[] | null): T[];
  compare(op: CompareOp, a: T, b: T, outShape: number[]): T;
  /** alpha, beta: LeakyRelu's slope, Step's value at x <= 0, ClipByValue's bounds; 0 otherwise. */
  unary(op: UnaryOp, x: T, alpha: number, beta: number): T;
  unaryInPlace(op: UnaryOp, x: T, alpha: number, beta: number): void;
  unaryGrad(op: UnaryGradOp, dy: T, saved: T, alpha: number): T;
  /** condition (bool) ? a : b, all three the same size. */
  select(condition: T, a: T, b: T): T;

  /** Reduces x over `axes` (ascending, possibly none: x itself); the result has outShape (kept dims or not). */
  reduce(op: ReduceOp, x: T, axes: number[], outShape: number[]): T;
  /** Index (int32) of the first maximum or minimum along `axis`. */
  argReduce(isMax: boolean, x: T, axis: number, outShape: number[]): T;

  transpose(x: T, perm: number[], outShape: number[]): T;
  tile(x: T, reps: number[], outShape: number[]): T;
  slice(x: T, begin: number[], size: number[]): T;
  /** Constant padding: `before` elements before each axis, outShape in all. */
  pad(x: T, before: number[], outShape: number[], value: number): T;
  /** Concatenation along `axis` of non-empty tensors. */
  concat(xs: T[], axis: number, outShape: number[]): T;

  maxPool(x: T, info: Conv2DInfo): T;
  avgPool(x: T, info: Conv2DInfo): T;
  maxPoolGrad(dy: T, x: T, info: Conv2DInfo): T;
  /** dx of avgPool; `input` gives the shape (its values are not read). */
  avgPoolGrad(dy: T, input: T, info: Conv2DInfo): T;

  /** Inference batch norm over the last axis (per-channel statistics). */
  batchNorm(x: T, mean: T, variance: T, scale: T | null, offset: T | null, eps: number): T;
  /** Training batch norm over all but the last axis: [y, mean, biased variance, 1 / std]. */
  batchNormTrain(x: T, scale: T, offset: T, eps: number): T[];
  /** [dx, dscale, doffset] of batchNormTrain. */
  batchNormTrainGrad(dy: T, x: T, scale: T, mean: T, invStd: T): T[];
  /** GroupNorm of [n, ..., c] (channels split in `groups` contiguous groups): [y, mean, 1 / std], [n, groups] each. */
  groupNorm(x: T, scale: T, offset: T, groups: number, eps: number): T[];
  /** [dx, dscale, doffset] of groupNorm. */
  groupNormGrad(dy: T, x: T, scale: T, mean: T, invStd: T, groups: number): T[];
}
