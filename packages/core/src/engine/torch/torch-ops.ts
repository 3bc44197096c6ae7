// DeviceOps over the libtorch addon: inputs are handles of the backend's tensors (backend.ts),
// every output a new tensor owning the handle the addon returns. Float32 for arithmetic; the
// layout ops, comparisons and select take any stored dtype.
import * as tf from '@tensorflow/tfjs';
import type { DataType, TensorInfo } from '@tensorflow/tfjs';

import type { BinaryOp, CompareOp, Conv2DInfo, DeviceOps, MatMulGeometry, ReduceOp, RngStateParts, UnaryGradOp, UnaryOp } from '../kernels/device-ops';
import { Unsupported } from '../kernels/kernel';
import { convParams, opCodes, poolParams, type OpCodes } from '../native/addon-ops';
import type { Handle, TorchAddon } from './addon';
import type { TorchBackend } from './backend';

type T = TensorInfo;

/** The binary ops whose constant operand goes to ATen as a number (binaryScalar in elementwise.cc). */
const SCALAR_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['Add', 'Sub', 'Multiply']);

class TorchOps implements DeviceOps {
  constructor(
    private readonly addon: TorchAddon,
    private readonly codes: OpCodes,
    private readonly b: TorchBackend,
  ) {}

  private f32(t: T | null | undefined): Handle {
    if (t == null) throw new Unsupported('missing input');
    if (t.dtype !== 'float32') throw new Unsupported(`dtype ${t.dtype}`);
    return this.b.handle(t);
  }
  private opt(t: T | null): Handle | null {
    return t == null ? null : this.f32(t);
  }
  private out(h: Handle, shape: number[], dtype: DataType = 'float32'): T {
    return this.b.fromHandle(h, shape, dtype);
  }
  private outs(hs: Handle[], shapes: number[][]): T[] {
    return hs.map((h, i) => this.out(h, shapes[i]!));
  }

  accept(...tensors: (T | null | undefined)[]): void {
    for (const t of tensors) if (t != null) this.f32(t);
  }
  dispose(t: T): void {
    this.b.disposeIntermediateTensorInfo(t);
  }
  clone(x: T): T {
    return this.out(this.addon.clone(this.f32(x)), x.shape);
  }
  /** A constant the device fills when a kernel first takes its handle (a scalar operand of add, sub or multiply never is). */
  fill(shape: number[], value: number): T {
    return this.b.fromConstant(shape, value, 'float32') ?? this.out(this.addon.fill(shape, value, 0), shape);
  }
  dropoutMask(shape: number[], state: RngStateParts, p: number, value: number): T {
    return this.out(this.addon.dropoutMask(shape, state, p, value), shape);
  }

  conv2d(x: T, filter: T, info: Conv2DInfo, bias: T | null): T {
    return this.out(this.addon.conv2d(this.f32(x), this.f32(filter), convParams(info), this.opt(bias)), info.outShape);
  }
  conv2dBackpropInput(dy: T, filter: T, info: Conv2DInfo): T {
    return this.out(this.addon.conv2dBackpropInput(this.f32(dy), this.f32(filter), convParams(info)), [...info.inShape]);
  }
  conv2dBackpropFilter(x: T, dy: T, info: Conv2DInfo): T {
    return this.out(this.addon.conv2dBackpropFilter(this.f32(x), this.f32(dy), convParams(info)), [...info.filterShape]);
  }
  matMul(a: T, b: T, g: MatMulGeometry): T {
    const h = this.addon.matmul(this.f32(a), this.f32(b), g.batchA, g.batchB, g.m, g.k, g.n, g.transposeA ? 1 : 0, g.transposeB ? 1 : 0, g.outShape);
    return this.out(h, g.outShape);
  }

  binary(op: BinaryOp, a: T, b: T, outShape: number[]): T {
    // A constant operand (a scalar, most often) of add, sub or multiply goes as a number when the
    // other operand has the result's shape: no device tensor is filled for it.
    if (SCALAR_OPS.has(op) && a.dtype === 'float32' && b.dtype === 'float32') {
      const bValue = this.b.constantValue(b);
      if (bValue !== undefined && tf.util.arraysEqual(a.shape, outShape)) return this.out(this.addon.binaryScalar(this.codes.binary[op], this.f32(a), bValue, 0), outShape);
      const aValue = this.b.constantValue(a);
      if (aValue !== undefined && tf.util.arraysEqual(b.shape, outShape)) return this.out(this.addon.binaryScalar(this.codes.binary[op], this.f32(b), aValue, 1), outShape);
    }
    return this.out(this.addon.binary(this.codes.binary[op], this.f32(a), this.f32(b)), outShape);
  }
  binaryInPlace(op: BinaryOp, target: T, b: T): void {
    this.addon.binaryInPlace(this.codes.binary[op], this.f32(target), this.f32(b));
  }
  runningAverages(runnings: T[], values: T[], keep: number, take: number, scales: number[] | null): T[] {
    const hs = this.addon.runningAverages(
      runnings.map((t) => this.f32(t)),
      values.map((t) => this.f32(t)),
      keep,
      take,
      scales,
    );
    return this.outs(
      hs,
      runnings.map((t) => t.shape),
    );
  }
  compare(op: CompareOp, a: T, b: T, outShape: number[]): T {
    if (a.dtype !== b.dtype) throw new Unsupported('dtypes differ');
    return this.out(this.addon.compare(this.codes.compare[op], this.b.handle(a), this.b.handle(b)), outShape, 'bool');
  }
  unary(op: UnaryOp, x: T, alpha: number, beta: number): T {
    return this.out(this.addon.unary(this.codes.unary[op], this.f32(x), alpha, beta), x.shape);
  }
  unaryInPlace(op: UnaryOp, x: T, alpha: number, beta: number): void {
    this.addon.unaryInPlace(this.codes.unary[op], this.f32(x), alpha, beta);
  }
  unaryGrad(op: UnaryGradOp, dy: T, saved: T, alpha: number): T {
    return this.out(this.addon.unaryGrad(this.codes.unaryGrad[op], this.f32(dy), this.f32(saved), alpha), dy.shape);
  }
  select(condition: T, a: T, b: T): T {
    if (a.dtype !== b.dtype || condition.dtype !== 'bool') throw new Unsupported('select dtypes');
    // tfjs's rank-1 condition picks whole rows: it broadcasts over the trailing axes.
    const rows = condition.shape.length === 1 && a.shape.length > 1;
    const cond = rows ? { ...condition, shape: [condition.shape[0]!, ...a.shape.slice(1).map(() => 1)] } : condition;
    if (!rows && !tf.util.arraysEqual(condition.shape, a.shape)) throw new Unsupported('select shapes');
    return this.out(this.addon.select(this.b.handle(cond), this.b.handle(a), this.b.handle(b)), a.shape, a.dtype);
  }

  reduce(op: ReduceOp, x: T, axes: number[], outShape: number[]): T {
    // over no axes: x itself (ATen would read an empty axis list as all of them)
    if (axes.length === 0) return this.out(this.addon.clone(this.f32(x)), outShape);
    return this.out(this.addon.reduce(this.codes.reduce[op], this.f32(x), axes, outShape), outShape);
  }
  argReduce(isMax: boolean, x: T, axis: number, outShape: number[]): T {
    return this.out(this.addon.argReduce(isMax ? 1 : 0, this.f32(x), axis, outShape), outShape, 'int32');
  }

  transpose(x: T, perm: number[], outShape: number[]): T {
    return this.out(this.addon.transpose(this.b.handle(x), perm), outShape, x.dtype);
  }
  tile(x: T, reps: number[], outShape: number[]): T {
    return this.out(this.addon.tile(this.b.handle(x), reps), outShape, x.dtype);
  }
  slice(x: T, begin: number[], size: number[]): T {
    return this.out(this.addon.slice(this.b.handle(x), begin, size), size, x.dtype);
  }
  pad(x: T, before: number[], outShape: number[], value: number): T {
    return this.out(this.addon.pad(this.b.handle(x), before, outShape, value), outShape, x.dtype);
  }
  concat(xs: T[], axis: number, outShape: number[]): T {
    if (xs.some((t) => t.dtype !== xs[0]!.dtype)) throw new Unsupported('dtypes differ');
    return this.out(
      this.addon.concat(
        xs.map((t) => this.b.handle(t)),
        axis,
      ),
      outShape,
      xs[0]!.dtype,
    );
  }

  maxPool(x: T, info: Conv2DInfo): T {
    return this.out(this.addon.maxPool(this.f32(x), poolParams(info)), info.outShape);
  }
  avgPool(x: T, info: Conv2DInfo): T {
    return this.out(this.addon.avgPool(this.f32(x), poolParams(info)), info.outShape);
  }
  maxPoolGrad(dy: T, x: T, info: Conv2DInfo): T {
    return this.out(this.addon.maxPoolGrad(this.f32(dy), this.f32(x), poolParams(info)), x.shape);
  }
  avgPoolGrad(dy: T, input: T, info: Conv2DInfo): T {
    return this.out(this.addon.avgPoolGrad(this.f32(dy), poolParams(info)), input.shape);
  }

  batchNorm(x: T, mean: T, variance: T, scale: T | null, offset: T | null, eps: number): T {
    return this.out(this.addon.batchNorm(this.f32(x), this.f32(mean), this.f32(variance), this.opt(scale), this.opt(offset), eps), x.shape);
  }
  batchNormTrain(x: T, scale: T, offset: T, eps: number): T[] {
    const c = [x.shape[x.shape.length - 1]!];
    return this.outs(this.addon.batchNormTrain(this.f32(x), this.f32(scale), this.f32(offset), eps), [x.shape, c, c, c]);
  }
  batchNormTrainGrad(dy: T, x: T, scale: T, mean: T, invStd: T): T[] {
    const c = [x.shape[x.shape.length - 1]!];
    return this.outs(this.addon.batchNormTrainGrad(this.f32(dy), this.f32(x), this.f32(scale), this.f32(mean), this.f32(invStd)), [x.shape, c, c]);
  }
  groupNorm(x: T, scale: T, offset: T, groups: number, eps: number): T[] {
    const stats = [x.shape[0]!, groups];
    return this.outs(this.addon.groupNorm(this.f32(x), this.f32(scale), this.f32(offset), groups, eps), [x.shape, stats, stats]);
  }
  groupNormGrad(dy: T, x: T, scale: T, mean: T, invStd: T, groups: number): T[] {
    const c = [x.shape[x.shape.length - 1]!];
    const hs = this.addon.groupNormGrad(this.f32(dy), this.f32(x), this.f32(scale), this.f32(mean), this.f32(invStd), groups);
    return this.outs(hs, [x.shape, c, c]);
  }
}

/** The addon's DeviceOps for a backend instance (the last one is kept, as there is one in practice). */
export function torchOpsFor(addon: TorchAddon): (backend: unknown) => DeviceOps {
  const codes = opCodes(addon, 'node packages/core/scripts/build-torch.js');
  let last: { backend: unknown; ops: TorchOps } | null = null;
  return (backend) => {
    if (!last || last.backend !== backend) last = { backend, ops: new TorchOps(addon, codes, backend as TorchBackend) };
    return last.ops;
  };
}
