// Native kernel implementations for the 'dlcv-native' backend. Each kernel handles the float32
// cases the models use and otherwise (other dtypes, NCHW, unsupported broadcasts, a native
// error) calls the tfjs cpu kernel it replaces, so results never depend on coverage.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

import type { NativeAddon } from './addon';
import { outputF32 } from './alloc';

const { backend_util, util } = tf;

/** The subset of MathBackendCPU the kernels use. */
export interface CpuLikeBackend {
  data: { get(id: object): { values?: unknown; refCount?: number } };
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}

interface Args {
  inputs: NamedTensorInfoMap;
  backend: CpuLikeBackend;
  attrs?: NamedAttrMap;
}

export const BINARY_OPS: Record<string, number> = {
  Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6, Pow: 7, Prelu: 8,
};
export const COMPARE_OPS: Record<string, number> = {
  Greater: 0, GreaterEqual: 1, Less: 2, LessEqual: 3, Equal: 4, NotEqual: 5,
};
export const UNARY_OPS: Record<string, number> = {
  Relu: 0, Relu6: 1, LeakyRelu: 2, Elu: 3, Sigmoid: 4, Tanh: 5, Exp: 6, Log: 7, Neg: 8, Sqrt: 9, Rsqrt: 10,
  Square: 11, Abs: 12, Erf: 13, Reciprocal: 14, Softplus: 15, Step: 16, Log1p: 17, Expm1: 18, Sign: 19, Selu: 20,
  ClipByValue: 21,
};
export const REDUCE_OPS: Record<string, number> = { Sum: 0, Mean: 1, Max: 2, Min: 3, Prod: 4 };

class Unsupported extends Error {}

function f32(b: CpuLikeBackend, t: TensorInfo | undefined | null): Float32Array {
  if (t == null) throw new Unsupported('missing input');
  if (t.dtype !== 'float32') throw new Unsupported(`dtype ${t.dtype}`);
  const v = b.data.get(t.dataId).values;
  if (!(v instanceof Float32Array)) throw new Unsupported('values are not a Float32Array');
  return v;
}
function f32opt(b: CpuLikeBackend, t: TensorInfo | undefined | null): Float32Array | null {
  return t == null ? null : f32(b, t);
}
function out(b: CpuLikeBackend, shape: number[], values: Float32Array | Uint8Array | Int32Array,
  dtype = 'float32'): TensorInfo {
  return b.makeTensorInfo(shape, dtype, values);
}
const size = (shape: number[]) => util.sizeFromShape(shape);

export type KernelStats = Map<string, { native: number; fallback: number; lastReason?: string }>;

/**
 * Builds the native kernel configs. `cpu` maps kernel names to the tfjs cpu kernel functions used
 * as fallbacks; `stats` counts native runs and fallbacks per kernel (for tests and diagnostics).
 */
export function makeNativeKernels(addon: NativeAddon, backendName: string, cpu: Map<string, KernelFunc>,
  stats: KernelStats): KernelConfig[] {
  const configs: KernelConfig[] = [];
  const reg = (kernelName: string, impl: (a: Args) => TensorInfo | TensorInfo[]) => {
    const fallback = cpu.get(kernelName);
    if (!fallback) return; // the cpu backend does not have it either: leave it unregistered
    const st = { native: 0, fallback: 0 } as { native: number; fallback: number; lastReason?: string };
    stats.set(kernelName, st);
    const kernelFunc = ((args: Args) => {
      try {
        const r = impl(args);
        st.native++;
        return r;
      } catch (e) {
        if (!(e instanceof Unsupported)) {
          // A real native failure: report once per kernel, then keep going on the cpu kernel.
          if (!st.lastReason) console.warn(`dlcv-native: ${kernelName} failed natively (${(e as Error).message}); using the cpu kernel`);
        }
        st.fallback++;
        st.lastReason = (e as Error).message;
        return fallback(args as never);
      }
    }) as unknown as KernelFunc;
    configs.push({ kernelName, backendName, kernelFunc });
  };

  // ---------------------------------------------------------------- helpers used by fused ops
  const binaryInfo = (b: CpuLikeBackend, op: number, a: TensorInfo, c: TensorInfo): TensorInfo => {
    const av = f32(b, a), cv = f32(b, c);
    const shape = backend_util.assertAndGetBroadcastShape(a.shape, c.shape);
    const o = outputF32(size(shape));
    addon.binary(op, av, a.shape, cv, c.shape, o, shape);
    return out(b, shape, o);
  };
  const unaryInPlace = (op: number, v: Float32Array, alpha = 0, beta = 0) => addon.unary(op, v, v, alpha, beta);
  /** Applies a fused activation in place on `t` (owned by us); returns the possibly new tensor. */
  const activate = (b: CpuLikeBackend, t: TensorInfo, activation: string | undefined, prelu: TensorInfo | undefined,
    leakyreluAlpha: number | undefined): TensorInfo => {
    const v = f32(b, t);
    switch (activation ?? 'linear') {
      case 'linear': return t;
      case 'relu': unaryInPlace(UNARY_OPS.Relu!, v); return t;
      case 'relu6': unaryInPlace(UNARY_OPS.Relu6!, v); return t;
      case 'elu': unaryInPlace(UNARY_OPS.Elu!, v); return t;
      case 'sigmoid': unaryInPlace(UNARY_OPS.Sigmoid!, v); return t;
      case 'leakyrelu': unaryInPlace(UNARY_OPS.LeakyRelu!, v, leakyreluAlpha ?? 0.2); return t;
      case 'prelu': {
        if (!prelu) throw new Unsupported('prelu without weights');
        const r = binaryInfo(b, BINARY_OPS.Prelu!, t, prelu);
        b.disposeIntermediateTensorInfo(t);
        return r;
      }
      default: throw new Unsupported(`activation ${activation}`);
    }
  };

  // ---------------------------------------------------------------- convolutions
  type ConvInfo = ReturnType<typeof backend_util.computeConv2DInfo>;
  const convParams = (ci: ConvInfo) => [
    ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.filterHeight, ci.filterWidth, ci.outChannels,
    ci.outHeight, ci.outWidth, ci.strideHeight, ci.strideWidth, ci.padInfo.top, ci.padInfo.bottom,
    ci.padInfo.left, ci.padInfo.right, ci.dilationHeight, ci.dilationWidth,
  ];
  const nhwcOnly = (fmt: unknown) => {
    if (fmt != null && fmt !== 'NHWC' && fmt !== 'channelsLast') throw new Unsupported(`dataFormat ${String(fmt)}`);
  };
  const conv2dForward = (b: CpuLikeBackend, x: TensorInfo, filter: TensorInfo, attrs: NamedAttrMap,
    bias: Float32Array | null = null): TensorInfo => {
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as never as {
      strides: [number, number] | number; pad: 'same' | 'valid' | number; dataFormat: string;
      dilations: [number, number] | number; dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    nhwcOnly(dataFormat);
    const ci = backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number], strides, dilations, pad as never, dimRoundingMode, false, 'channelsLast');
    const xv = f32(b, x), wv = f32(b, filter);
    const y = outputF32(size(ci.outShape));
    addon.conv2d(xv, wv, y, convParams(ci), bias);
    return out(b, ci.outShape, y);
  };
  reg('Conv2D', ({ inputs, backend, attrs }) => conv2dForward(backend, inputs.x!, inputs.filter!, attrs!));
  reg('FusedConv2D', ({ inputs, backend, attrs }) => {
    const { x, filter, bias, preluActivationWeights } = inputs;
    const { activation, leakyreluAlpha } = attrs as { activation?: string; leakyreluAlpha?: number };
    f32(backend, x); f32(backend, filter); f32opt(backend, bias); f32opt(backend, preluActivationWeights);
    if (activation && !['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'].includes(activation)) {
      throw new Unsupported(`activation ${activation}`);
    }
    const outC = filter!.shape[3]!;
    const biasInConv = bias != null && size(bias.shape) === outC && bias.shape.length <= 1;
    let r = conv2dForward(backend, x!, filter!, attrs!, biasInConv ? f32(backend, bias) : null);
    if (bias && !biasInConv) {
      const rv = f32(backend, r);
      addon.binary(BINARY_OPS.Add!, rv, r.shape, f32(backend, bias), bias.shape, rv, r.shape);
    }
    r = activate(backend, r, activation, preluActivationWeights, leakyreluAlpha);
    return r;
  });
  reg('Conv2DBackpropInput', ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs;
    const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as never as {
      inputShape: [number, number, number, number]; strides: [number, number] | number; pad: 'same' | 'valid' | number;
      dataFormat: string; dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    nhwcOnly(dataFormat);
    const ci = backend_util.computeConv2DInfo(inputShape, filter!.shape as [number, number, number, number], strides, 1,
      pad as never, dimRoundingMode, false, 'channelsLast');
    const dyv = f32(backend, dy), wv = f32(backend, filter);
    const dx = outputF32(size(inputShape));
    addon.conv2dBackpropInput(dyv, wv, dx, convParams(ci));
    return out(backend, [...inputShape], dx);
  });
  reg('Conv2DBackpropFilter', ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as never as {
      strides: [number, number] | number; pad: 'same' | 'valid' | number; dataFormat: string;
      dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
    };
    nhwcOnly(dataFormat);
    const ci = backend_util.computeConv2DInfo(x!.shape as [number, number, number, number], filterShape, strides, 1,
      pad as never, dimRoundingMode, false, 'channelsLast');
    const xv = f32(backend, x), dyv = f32(backend, dy);
    const dw = outputF32(size(filterShape));
    addon.conv2dBackpropFilter(xv, dyv, dw, convParams(ci));
    return out(backend, [...filterShape], dw);
  });

  // ---------------------------------------------------------------- matmul
  const batchMatMul = (b: CpuLikeBackend, a: TensorInfo, c: TensorInfo, transA: boolean, transB: boolean): TensorInfo => {
    const av = f32(b, a), cv = f32(b, c);
    const ra = a.shape.length, rc = c.shape.length;
    if (ra < 2 || rc < 2) throw new Unsupported('rank < 2');
    const m = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const k = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const k2 = transB ? c.shape[rc - 1]! : c.shape[rc - 2]!;
    const n = transB ? c.shape[rc - 2]! : c.shape[rc - 1]!;
    if (k !== k2) throw new Unsupported('inner dimensions differ');
    const outerA = a.shape.slice(0, -2), outerB = c.shape.slice(0, -2);
    const batchA = size(outerA), batchB = size(outerB);
    const outer = backend_util.assertAndGetBroadcastShape(outerA, outerB);
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) throw new Unsupported('partial batch broadcast');
    const shape = [...outer, m, n];
    // k = 0: a zero product, so the zero-filled array is the result
    const o = k > 0 ? outputF32(size(shape)) : new Float32Array(size(shape));
    if (m * n * k > 0) addon.matmul(av, cv, o, batchA, batchB, m, k, n, transA ? 1 : 0, transB ? 1 : 0);
    return out(b, shape, o);
  };
  reg('BatchMatMul', ({ inputs, backend, attrs }) =>
    batchMatMul(backend, inputs.a!, inputs.b!, !!attrs!.transposeA, !!attrs!.transposeB));
  reg('_FusedMatMul', ({ inputs, backend, attrs }) => {
    const { a, b, bias, preluActivationWeights } = inputs;
    const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as {
      transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number;
    };
    f32opt(backend, bias); f32opt(backend, preluActivationWeights);
    if (activation && !['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'].includes(activation)) {
      throw new Unsupported(`activation ${activation}`);
    }
    let r = batchMatMul(backend, a!, b!, !!transposeA, !!transposeB);
    if (bias) {
      const shape = backend_util.assertAndGetBroadcastShape(r.shape, bias.shape);
      if (!util.arraysEqual(shape, r.shape)) {
        const r2 = binaryInfo(backend, BINARY_OPS.Add!, r, bias);
        backend.disposeIntermediateTensorInfo(r);
        r = r2;
      } else {
        const rv = f32(backend, r);
        addon.binary(BINARY_OPS.Add!, rv, r.shape, f32(backend, bias), bias.shape, rv, r.shape);
      }
    }
    return activate(backend, r, activation, preluActivationWeights, leakyreluAlpha);
  });

  // ---------------------------------------------------------------- elementwise
  for (const [name, op] of Object.entries(BINARY_OPS)) {
    reg(name, ({ inputs, backend }) => {
      const [a, c] = name === 'Prelu' ? [inputs.x!, inputs.alpha!] : [inputs.a!, inputs.b!];
      return binaryInfo(backend, op, a, c);
    });
  }
  for (const [name, op] of Object.entries(COMPARE_OPS)) {
    reg(name, ({ inputs, backend }) => {
      const a = inputs.a!, c = inputs.b!;
      const av = f32(backend, a), cv = f32(backend, c);
      const shape = backend_util.assertAndGetBroadcastShape(a.shape, c.shape);
      const o = new Uint8Array(size(shape));
      addon.compare(op, av, a.shape, cv, c.shape, o, shape);
      return out(backend, shape, o, 'bool');
    });
  }
  for (const [name, op] of Object.entries(UNARY_OPS)) {
    reg(name, ({ inputs, backend, attrs }) => {
      const x = inputs.x!;
      const xv = f32(backend, x);
      let alpha = 0, beta = 0;
      if (name === 'LeakyRelu' || name === 'Step') alpha = (attrs!.alpha as number) ?? (name === 'Step' ? 0 : 0.2);
      if (name === 'ClipByValue') {
        alpha = attrs!.clipValueMin as number;
        beta = attrs!.clipValueMax as number;
      }
      const o = outputF32(xv.length);
      addon.unary(op, xv, o, alpha, beta);
      return out(backend, x.shape, o);
    });
  }
  reg('EluGrad', ({ inputs, backend }) => {
    const dyv = f32(backend, inputs.dy), yv = f32(backend, inputs.y);
    const o = outputF32(yv.length);
    addon.unaryGrad(0, dyv, yv, o, 0);
    return out(backend, inputs.y!.shape, o);
  });
  reg('Select', ({ inputs, backend }) => {
    const { condition, t, e } = inputs;
    if (condition!.dtype !== 'bool') throw new Unsupported('condition dtype');
    const cv = backend.data.get(condition!.dataId).values;
    if (!(cv instanceof Uint8Array)) throw new Unsupported('condition values');
    const tv = f32(backend, t), ev = f32(backend, e);
    if (cv.length !== tv.length || ev.length !== tv.length) throw new Unsupported('broadcast select');
    const o = outputF32(tv.length);
    addon.select(cv, tv, ev, o);
    return out(backend, t!.shape, o);
  });
  reg('AddN', ({ inputs, backend }) => {
    const ts = inputs as unknown as TensorInfo[];
    const list = (Array.isArray(ts) ? ts : Object.values(inputs)) as TensorInfo[];
    if (list.length === 0) throw new Unsupported('no inputs');
    const vs = list.map((t) => f32(backend, t));
    const shape = list[0]!.shape;
    if (list.some((t) => !util.arraysEqual(t.shape, shape))) throw new Unsupported('shapes differ');
    const o = new Float32Array(vs[0]!);
    for (let i = 1; i < vs.length; i++) addon.binary(BINARY_OPS.Add!, o, shape, vs[i]!, shape, o, shape);
    return out(backend, shape, o);
  });

  // ---------------------------------------------------------------- reductions
  const reduce = (b: CpuLikeBackend, op: number, x: TensorInfo, axis: number | number[], keepDims: boolean): TensorInfo => {
    const xv = f32(b, x);
    const rank = x.shape.length;
    const axes = util.parseAxisParam(axis, x.shape).slice().sort((p, q) => p - q);
    if (axes.length === 0 || rank === 0) throw new Unsupported('empty axes');
    if (xv.length === 0) throw new Unsupported('empty tensor');
    const outShape = x.shape.filter((_, i) => !axes.includes(i));
    const o = outputF32(size(outShape));
    const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
    if (contiguous) {
      const A = size(x.shape.slice(0, axes[0]!));
      const R = size(x.shape.slice(axes[0]!, axes[axes.length - 1]! + 1));
      const B = size(x.shape.slice(axes[axes.length - 1]! + 1));
      addon.reduce(op, xv, A, R, B, o);
    } else {
      const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const perm = [...kept, ...axes];
      const t = outputF32(xv.length);
      addon.transpose(xv, x.shape, perm, t);
      addon.reduce(op, t, size(outShape), size(axes.map((a) => x.shape[a]!)), 1, o);
    }
    const shape = keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return out(b, shape, o);
  };
  for (const [name, op] of Object.entries(REDUCE_OPS)) {
    reg(name, ({ inputs, backend, attrs }) =>
      reduce(backend, op, inputs.x!, (name === 'Max' ? attrs!.reductionIndices : attrs!.axis) as number | number[],
        !!attrs!.keepDims));
  }
  for (const name of ['ArgMax', 'ArgMin']) {
    reg(name, ({ inputs, backend, attrs }) => {
      const x = inputs.x!;
      const xv = f32(backend, x);
      const axes = util.parseAxisParam(attrs!.axis as number, x.shape);
      if (axes.length !== 1) throw new Unsupported('multi-axis arg reduce');
      const ax = axes[0]!;
      const A = size(x.shape.slice(0, ax)), R = x.shape[ax]!, B = size(x.shape.slice(ax + 1));
      if (R === 0) throw new Unsupported('empty axis');
      const o = new Int32Array(A * B);
      addon.argReduce(name === 'ArgMax' ? 1 : 0, xv, A, R, B, o);
      return out(backend, x.shape.filter((_, i) => i !== ax), o, 'int32');
    });
  }

  // ---------------------------------------------------------------- layout
  reg('Transpose', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const xv = f32(backend, x);
    const perm = attrs!.perm as number[];
    const o = outputF32(xv.length);
    addon.transpose(xv, x.shape, perm, o);
    return out(backend, perm.map((p) => x.shape[p]!), o);
  });
  reg('Tile', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const xv = f32(backend, x);
    const reps = attrs!.reps as number[];
    if (reps.length !== x.shape.length) throw new Unsupported('reps rank');
    const shape = x.shape.map((d, i) => d * reps[i]!);
    const o = outputF32(size(shape));
    addon.tile(xv, x.shape, reps, o);
    return out(backend, shape, o);
  });
  reg('Slice', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const xv = f32(backend, x);
    const [begin, sz] = tf.slice_util.parseSliceParams(x as never, attrs!.begin as number[], attrs!.size as number[]) as [number[], number[]];
    const o = outputF32(size(sz));
    if (o.length > 0) addon.slice(xv, x.shape, begin, sz, o);
    return out(backend, sz, o);
  });
  reg('PadV2', ({ inputs, backend, attrs }) => {
    // The gradient of slice (DANN's source half of the features) is a zero pad.
    const x = inputs.x!;
    const xv = f32(backend, x);
    const paddings = attrs!.paddings as [number, number][];
    const shape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
    const o = outputF32(size(shape));
    addon.pad(xv, x.shape, paddings.map((p) => p[0]), shape, (attrs!.constantValue as number) ?? 0, o);
    return out(backend, shape, o);
  });
  reg('SplitV', ({ inputs, backend, attrs }) => {
    // The gradient of concat: tfjs's cpu kernel copies non-contiguous slices element by element.
    const x = inputs.x!;
    const xv = f32(backend, x);
    const axis = util.parseAxisParam(attrs!.axis as number, x.shape)[0]!;
    const sizes = backend_util.prepareSplitSize(x as never, attrs!.numOrSizeSplits as number | number[], axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    const outs: TensorInfo[] = [];
    for (const s of sizes) {
      const sz = [...x.shape];
      sz[axis] = s;
      const o = outputF32(size(sz));
      if (o.length > 0) addon.slice(xv, x.shape, begin, sz, o);
      outs.push(out(backend, sz, o));
      begin[axis] = begin[axis]! + s;
    }
    return outs;
  });
  reg('Concat', ({ inputs, backend, attrs }) => {
    const list = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
    const axis = util.parseAxisParam(attrs!.axis as number, list[0]!.shape)[0]!;
    const nonEmpty = list.filter((t) => size(t.shape) > 0);
    if (nonEmpty.length < 2) throw new Unsupported('fewer than two non-empty inputs');
    const vs = nonEmpty.map((t) => f32(backend, t));
    const shape = backend_util.computeOutShape(nonEmpty.map((t) => t.shape), axis);
    const outer = size(shape.slice(0, axis));
    const widths = nonEmpty.map((t) => size(t.shape.slice(axis)));
    const o = outputF32(size(shape));
    addon.concat(vs, widths, outer, o);
    return out(backend, shape, o);
  });

  // ---------------------------------------------------------------- pooling
  type PoolAttrs = { filterSize: [number, number] | number; strides: [number, number] | number;
    pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const poolInfo = (shape: number[], attrs: NamedAttrMap) => {
    const { filterSize, strides, pad, dimRoundingMode } = attrs as never as PoolAttrs;
    const ci = backend_util.computePool2DInfo(shape as [number, number, number, number], filterSize, strides, 1, pad as never,
      dimRoundingMode);
    if (ci.dilationHeight !== 1 || ci.dilationWidth !== 1) throw new Unsupported('dilated pool');
    return {
      ci,
      params: [ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.outHeight, ci.outWidth, ci.filterHeight,
        ci.filterWidth, ci.strideHeight, ci.strideWidth, ci.padInfo.top, ci.padInfo.left, 1, 1],
    };
  };
  reg('MaxPool', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const xv = f32(backend, x);
    const { ci, params } = poolInfo(x.shape, attrs!);
    const y = outputF32(size(ci.outShape));
    addon.maxPool(xv, y, params);
    return out(backend, ci.outShape, y);
  });
  reg('AvgPool', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const xv = f32(backend, x);
    const { ci, params } = poolInfo(x.shape, attrs!);
    const y = outputF32(size(ci.outShape));
    addon.avgPool(xv, y, params);
    return out(backend, ci.outShape, y);
  });
  reg('MaxPoolGrad', ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs;
    const dyv = f32(backend, dy), xv = f32(backend, input);
    const { params } = poolInfo(input!.shape, attrs!);
    const dx = outputF32(xv.length);
    addon.maxPoolGrad(dyv, xv, dx, params);
    return out(backend, input!.shape, dx);
  });
  reg('AvgPoolGrad', ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs;
    const dyv = f32(backend, dy);
    const { params } = poolInfo(input!.shape, attrs!);
    const dx = outputF32(size(input!.shape));
    addon.avgPoolGrad(dyv, dx, params);
    return out(backend, input!.shape, dx);
  });

  // ---------------------------------------------------------------- batch norm (inference form)
  reg('FusedBatchNorm', ({ inputs, backend, attrs }) => {
    const { x, mean, variance, offset, scale } = inputs;
    const xv = f32(backend, x);
    const c = x!.shape[x!.shape.length - 1] ?? 1;
    const mv = f32(backend, mean), vv = f32(backend, variance);
    const ov = f32opt(backend, offset), sv = f32opt(backend, scale);
    for (const p of [mv, vv, ov, sv]) if (p && p.length !== c) throw new Unsupported('params not per-channel');
    const o = outputF32(xv.length);
    addon.batchNorm(xv, xv.length / c, c, mv, vv, sv, ov, (attrs!.varianceEpsilon as number) ?? 0.001, o);
    return out(backend, x!.shape, o);
  });

  return configs;
}
