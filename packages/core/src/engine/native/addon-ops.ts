// DeviceOps over the dlcv_native addon: tensors live in the tfjs cpu backend's storage as
// Float32Arrays (a MathBackendCPU subclass, backend.ts), and every output is allocated here,
// mostly from alloc.ts's pool, then filled by one addon call.
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';

import {
  BINARY_OPS,
  COMPARE_OPS,
  REDUCE_OPS,
  UNARY_GRAD_OPS,
  UNARY_OPS,
  type BinaryOp,
  type CompareOp,
  type Conv2DInfo,
  type DeviceOps,
  type MatMulGeometry,
  type ReduceOp,
  type RngStateParts,
  type UnaryGradOp,
  type UnaryOp,
} from '../kernels/device-ops';
import { Unsupported } from '../kernels/kernel';
import type { NativeAddon } from './addon';
import { outputF32 } from './alloc';

const size = (shape: number[]) => tf.util.sizeFromShape(shape);

/** The subset of MathBackendCPU the native engine uses. */
export interface CpuLikeBackend {
  data: { get(id: object): { values?: unknown; refCount?: number } };
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}

export interface OpCodes {
  unary: Record<UnaryOp, number>;
  unaryGrad: Record<UnaryGradOp, number>;
  binary: Record<BinaryOp, number>;
  compare: Record<CompareOp, number>;
  reduce: Record<ReduceOp, number>;
}

/** An addon's op code tables (op_codes.h), checked to hold every op the kernels use. */
export function opCodes(addon: Pick<NativeAddon, 'opCodes'>, build = 'node packages/core/scripts/build-native.js'): OpCodes {
  const table = addon.opCodes();
  const families = { unary: UNARY_OPS, unaryGrad: UNARY_GRAD_OPS, binary: BINARY_OPS, compare: COMPARE_OPS, reduce: REDUCE_OPS };
  for (const [family, names] of Object.entries(families)) {
    for (const name of names) {
      if (typeof table[family as keyof OpCodes]?.[name] !== 'number') {
        throw new Error(`the addon has no ${family} op ${name} (rebuild it: ${build})`);
      }
    }
  }
  return table as unknown as OpCodes;
}

/** [n,h,w,c, kh,kw,o, oh,ow, sh,sw, pt,pb,pl,pr, dh,dw]: the addons' convolution parameters. */
export function convParams(ci: Conv2DInfo): number[] {
  return [
    ci.batchSize,
    ci.inHeight,
    ci.inWidth,
    ci.inChannels,
    ci.filterHeight,
    ci.filterWidth,
    ci.outChannels,
    ci.outHeight,
    ci.outWidth,
    ci.strideHeight,
    ci.strideWidth,
    ci.padInfo.top,
    ci.padInfo.bottom,
    ci.padInfo.left,
    ci.padInfo.right,
    ci.dilationHeight,
    ci.dilationWidth,
  ];
}

/** [n,h,w,c, oh,ow, kh,kw, sh,sw, pt,pl, dh,dw]: the addons' pooling parameters. */
export function poolParams(ci: Conv2DInfo): number[] {
  return [
    ci.batchSize,
    ci.inHeight,
    ci.inWidth,
    ci.inChannels,
    ci.outHeight,
    ci.outWidth,
    ci.filterHeight,
    ci.filterWidth,
    ci.strideHeight,
    ci.strideWidth,
    ci.padInfo.top,
    ci.padInfo.left,
    1,
    1,
  ];
}

class AddonOps implements DeviceOps {
  constructor(
    private readonly addon: NativeAddon,
    private readonly codes: OpCodes,
    private readonly b: CpuLikeBackend,
  ) {}

  private f32(t: TensorInfo | undefined | null): Float32Array {
    if (t == null) throw new Unsupported('missing input');
    if (t.dtype !== 'float32') throw new Unsupported(`dtype ${t.dtype}`);
    const v = this.b.data.get(t.dataId).values;
    if (!(v instanceof Float32Array)) throw new Unsupported('values are not a Float32Array');
    return v;
  }
  private f32opt(t: TensorInfo | null): Float32Array | null {
    return t == null ? null : this.f32(t);
  }
  private out(shape: number[], values: Float32Array | Uint8Array | Int32Array, dtype = 'float32'): TensorInfo {
    return this.b.makeTensorInfo(shape, dtype, values);
  }

  accept(...tensors: (TensorInfo | null | undefined)[]): void {
    for (const t of tensors) if (t != null) this.f32(t);
  }
  dispose(t: TensorInfo): void {
    this.b.disposeIntermediateTensorInfo(t);
  }
  clone(x: TensorInfo): TensorInfo {
    return this.out(x.shape, new Float32Array(this.f32(x)));
  }
  fill(shape: number[], value: number): TensorInfo {
    return this.out(shape, outputF32(size(shape)).fill(value));
  }
  dropoutMask(shape: number[], state: RngStateParts, p: number, value: number): TensorInfo {
    const out = outputF32(size(shape));
    this.addon.dropoutMask(out, state, p, value);
    return this.out(shape, out);
  }

  conv2d(x: TensorInfo, filter: TensorInfo, info: Conv2DInfo, bias: TensorInfo | null): TensorInfo {
    const xv = this.f32(x),
      wv = this.f32(filter),
      bv = this.f32opt(bias);
    const y = outputF32(size(info.outShape));
    this.addon.conv2d(xv, wv, y, convParams(info), bv);
    return this.out(info.outShape, y);
  }
  conv2dBackpropInput(dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
    const dyv = this.f32(dy),
      wv = this.f32(filter);
    const dx = outputF32(size(info.inShape));
    this.addon.conv2dBackpropInput(dyv, wv, dx, convParams(info));
    return this.out([...info.inShape], dx);
  }
  conv2dBackpropFilter(x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
    const xv = this.f32(x),
      dyv = this.f32(dy);
    const dw = outputF32(size(info.filterShape));
    this.addon.conv2dBackpropFilter(xv, dyv, dw, convParams(info));
    return this.out([...info.filterShape], dw);
  }
  matMul(a: TensorInfo, b: TensorInfo, g: MatMulGeometry): TensorInfo {
    const av = this.f32(a),
      bv = this.f32(b);
    const n = size(g.outShape);
    // k = 0: a zero product, so the zero-filled array is the result
    const o = g.k > 0 ? outputF32(n) : new Float32Array(n);
    if (g.m * g.n * g.k > 0) {
      this.addon.matmul(av, bv, o, g.batchA, g.batchB, g.m, g.k, g.n, g.transposeA ? 1 : 0, g.transposeB ? 1 : 0);
    }
    return this.out(g.outShape, o);
  }

  binary(op: BinaryOp, a: TensorInfo, b: TensorInfo, outShape: number[]): TensorInfo {
    const av = this.f32(a),
      bv = this.f32(b);
    const o = outputF32(size(outShape));
    this.addon.binary(this.codes.binary[op], av, a.shape, bv, b.shape, o, outShape);
    return this.out(outShape, o);
  }
  binaryInPlace(op: BinaryOp, target: TensorInfo, b: TensorInfo): void {
    const tv = this.f32(target);
    this.addon.binary(this.codes.binary[op], tv, target.shape, this.f32(b), b.shape, tv, target.shape);
  }
  runningAverages(runnings: TensorInfo[], values: TensorInfo[], keep: number, take: number, scales: number[] | null): TensorInfo[] {
    const k = this.fill([], keep),
      t = this.fill([], take);
    try {
      return runnings.map((running, i) => {
        const out = this.binary('Multiply', running, k, running.shape);
        let value = values[i]!;
        if (scales) {
          const s = this.fill([], scales[i]!);
          value = this.binary('Multiply', value, s, running.shape);
          this.dispose(s);
        }
        const taken = this.binary('Multiply', value, t, running.shape);
        if (scales) this.dispose(value);
        this.binaryInPlace('Add', out, taken);
        this.dispose(taken);
        return out;
      });
    } finally {
      this.dispose(k);
      this.dispose(t);
    }
  }
  compare(op: CompareOp, a: TensorInfo, b: TensorInfo, outShape: number[]): TensorInfo {
    const av = this.f32(a),
      bv = this.f32(b);
    const o = new Uint8Array(size(outShape));
    this.addon.compare(this.codes.compare[op], av, a.shape, bv, b.shape, o, outShape);
    return this.out(outShape, o, 'bool');
  }
  unary(op: UnaryOp, x: TensorInfo, alpha: number, beta: number): TensorInfo {
    const xv = this.f32(x);
    const o = outputF32(xv.length);
    this.addon.unary(this.codes.unary[op], xv, o, alpha, beta);
    return this.out(x.shape, o);
  }
  unaryInPlace(op: UnaryOp, x: TensorInfo, alpha: number, beta: number): void {
    const v = this.f32(x);
    this.addon.unary(this.codes.unary[op], v, v, alpha, beta);
  }
  unaryGrad(op: UnaryGradOp, dy: TensorInfo, saved: TensorInfo, alpha: number): TensorInfo {
    const dyv = this.f32(dy),
      sv = this.f32(saved);
    const o = outputF32(dyv.length);
    this.addon.unaryGrad(this.codes.unaryGrad[op], dyv, sv, o, alpha);
    return this.out(dy.shape, o);
  }
  select(condition: TensorInfo, a: TensorInfo, b: TensorInfo): TensorInfo {
    const cv = this.b.data.get(condition.dataId).values;
    if (!(cv instanceof Uint8Array)) throw new Unsupported('condition values');
    const av = this.f32(a),
      bv = this.f32(b);
    if (cv.length !== av.length || bv.length !== av.length) throw new Unsupported('broadcast select');
    const o = outputF32(av.length);
    this.addon.select(cv, av, bv, o);
    return this.out(a.shape, o);
  }

  reduce(op: ReduceOp, x: TensorInfo, axes: number[], outShape: number[]): TensorInfo {
    if (axes.length === 0) throw new Unsupported('empty axes');
    const xv = this.f32(x);
    const code = this.codes.reduce[op];
    const o = outputF32(size(outShape));
    const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
    if (contiguous) {
      const A = size(x.shape.slice(0, axes[0]!));
      const R = size(x.shape.slice(axes[0]!, axes[axes.length - 1]! + 1));
      const B = size(x.shape.slice(axes[axes.length - 1]! + 1));
      this.addon.reduce(code, xv, A, R, B, o);
    } else {
      // the reduced axes moved last, then one contiguous reduction
      const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const t = outputF32(xv.length);
      this.addon.transpose(xv, x.shape, [...kept, ...axes], t);
      this.addon.reduce(code, t, size(outShape), size(axes.map((a) => x.shape[a]!)), 1, o);
    }
    return this.out(outShape, o);
  }
  argReduce(isMax: boolean, x: TensorInfo, axis: number, outShape: number[]): TensorInfo {
    const xv = this.f32(x);
    const A = size(x.shape.slice(0, axis)),
      R = x.shape[axis]!,
      B = size(x.shape.slice(axis + 1));
    const o = new Int32Array(A * B);
    this.addon.argReduce(isMax ? 1 : 0, xv, A, R, B, o);
    return this.out(outShape, o, 'int32');
  }

  transpose(x: TensorInfo, perm: number[], outShape: number[]): TensorInfo {
    const xv = this.f32(x);
    const o = outputF32(xv.length);
    this.addon.transpose(xv, x.shape, perm, o);
    return this.out(outShape, o);
  }
  tile(x: TensorInfo, reps: number[], outShape: number[]): TensorInfo {
    const xv = this.f32(x);
    const o = outputF32(size(outShape));
    this.addon.tile(xv, x.shape, reps, o);
    return this.out(outShape, o);
  }
  slice(x: TensorInfo, begin: number[], sliceSize: number[]): TensorInfo {
    const xv = this.f32(x);
    const o = outputF32(size(sliceSize));
    if (o.length > 0) this.addon.slice(xv, x.shape, begin, sliceSize, o);
    return this.out(sliceSize, o);
  }
  pad(x: TensorInfo, before: number[], outShape: number[], value: number): TensorInfo {
    const xv = this.f32(x);
    const o = outputF32(size(outShape));
    this.addon.pad(xv, x.shape, before, outShape, value, o);
    return this.out(outShape, o);
  }
  concat(xs: TensorInfo[], axis: number, outShape: number[]): TensorInfo {
    const vs = xs.map((t) => this.f32(t));
    const outer = size(outShape.slice(0, axis));
    const widths = xs.map((t) => size(t.shape.slice(axis)));
    const o = outputF32(size(outShape));
    this.addon.concat(vs, widths, outer, o);
    return this.out(outShape, o);
  }

  maxPool(x: TensorInfo, info: Conv2DInfo): TensorInfo {
    const xv = this.f32(x);
    const y = outputF32(size(info.outShape));
    this.addon.maxPool(xv, y, poolParams(info));
    return this.out(info.outShape, y);
  }
  avgPool(x: TensorInfo, info: Conv2DInfo): TensorInfo {
    const xv = this.f32(x);
    const y = outputF32(size(info.outShape));
    this.addon.avgPool(xv, y, poolParams(info));
    return this.out(info.outShape, y);
  }
  maxPoolGrad(dy: TensorInfo, x: TensorInfo, info: Conv2DInfo): TensorInfo {
    const dyv = this.f32(dy),
      xv = this.f32(x);
    const dx = outputF32(xv.length);
    this.addon.maxPoolGrad(dyv, xv, dx, poolParams(info));
    return this.out(x.shape, dx);
  }
  avgPoolGrad(dy: TensorInfo, input: TensorInfo, info: Conv2DInfo): TensorInfo {
    const dyv = this.f32(dy);
    const dx = outputF32(size(input.shape));
    this.addon.avgPoolGrad(dyv, dx, poolParams(info));
    return this.out(input.shape, dx);
  }

  batchNorm(x: TensorInfo, mean: TensorInfo, variance: TensorInfo, scale: TensorInfo | null, offset: TensorInfo | null, eps: number): TensorInfo {
    const xv = this.f32(x);
    const c = x.shape[x.shape.length - 1] ?? 1;
    const o = outputF32(xv.length);
    this.addon.batchNorm(xv, xv.length / c, c, this.f32(mean), this.f32(variance), this.f32opt(scale), this.f32opt(offset), eps, o);
    return this.out(x.shape, o);
  }
  batchNormTrain(x: TensorInfo, scale: TensorInfo, offset: TensorInfo, eps: number): TensorInfo[] {
    const xv = this.f32(x);
    const c = x.shape[x.shape.length - 1]!;
    const y = outputF32(xv.length),
      mean = new Float32Array(c),
      variance = new Float32Array(c),
      invStd = new Float32Array(c);
    this.addon.batchNormTrain(xv, xv.length / c, c, this.f32(scale), this.f32(offset), eps, y, mean, variance, invStd);
    return [this.out(x.shape, y), this.out([c], mean), this.out([c], variance), this.out([c], invStd)];
  }
  batchNormTrainGrad(dy: TensorInfo, x: TensorInfo, scale: TensorInfo, mean: TensorInfo, invStd: TensorInfo): TensorInfo[] {
    const xv = this.f32(x);
    const c = x.shape[x.shape.length - 1]!;
    const dx = outputF32(xv.length),
      ds = new Float32Array(c),
      doff = new Float32Array(c);
    this.addon.batchNormTrainGrad(this.f32(dy), xv, xv.length / c, c, this.f32(scale), this.f32(mean), this.f32(invStd), dx, ds, doff);
    return [this.out(x.shape, dx), this.out([c], ds), this.out([c], doff)];
  }
  groupNorm(x: TensorInfo, scale: TensorInfo, offset: TensorInfo, groups: number, eps: number): TensorInfo[] {
    const xv = this.f32(x);
    const c = x.shape[x.shape.length - 1]!,
      n = x.shape[0]!;
    const y = outputF32(xv.length),
      mean = new Float32Array(n * groups),
      invStd = new Float32Array(n * groups);
    this.addon.groupNorm(xv, n, xv.length / (n * c), c, groups, this.f32(scale), this.f32(offset), eps, y, mean, invStd);
    return [this.out(x.shape, y), this.out([n, groups], mean), this.out([n, groups], invStd)];
  }
  groupNormGrad(dy: TensorInfo, x: TensorInfo, scale: TensorInfo, mean: TensorInfo, invStd: TensorInfo, groups: number): TensorInfo[] {
    const xv = this.f32(x);
    const c = x.shape[x.shape.length - 1]!,
      n = x.shape[0]!;
    const dx = outputF32(xv.length),
      ds = new Float32Array(c),
      doff = new Float32Array(c);
    this.addon.groupNormGrad(this.f32(dy), xv, n, xv.length / (n * c), c, groups, this.f32(scale), this.f32(mean), this.f32(invStd), dx, ds, doff);
    return [this.out(x.shape, dx), this.out([c], ds), this.out([c], doff)];
  }
}

/**
 * The addon's DeviceOps for each backend instance tfjs hands a kernel (one instance in practice:
 * the last one is kept). Throws when the addon lacks an op the kernels use.
 */
export function addonOpsFor(addon: NativeAddon): (backend: unknown) => DeviceOps {
  const codes = opCodes(addon);
  let lastBackend: unknown = null;
  let lastOps: AddonOps | null = null;
  return (backend) => {
    if (backend !== lastBackend || !lastOps) {
      lastOps = new AddonOps(addon, codes, backend as CpuLikeBackend);
      lastBackend = backend;
    }
    return lastOps;
  };
}
