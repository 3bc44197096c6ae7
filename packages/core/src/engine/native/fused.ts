// Fused kernels whose whole point is fewer passes over memory:
//  - activation gradients (Relu, LeakyRelu, Sigmoid, Tanh): one native kernel instead of tfjs's
//    2-3 op compositions, by wrapping the global gradient configs (other backends keep the
//    original gradient);
//  - DlcvGelu (exact, erf-based) and its gradient;
//  - DlcvBatchNormTrain: batch statistics + normalisation in one kernel, and its backward in one
//    kernel (instead of ~20 broadcasting ops through tf.moments + tf.batchNorm);
//  - DlcvGroupNorm (NHWC, statistics per sample and channel group) and its backward, likewise.
// The ops gelu() / batchNormTrain() / groupNorm() in ops.ts use these on the native backend and fall back to
// the equivalent tfjs compositions elsewhere.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

import type { NativeAddon } from './addon';
import { outputF32 } from './alloc';
import type { CpuLikeBackend } from './kernels';

export const ACT_GRAD = 'DlcvActivationGrad';
export const GELU = 'DlcvGelu';
export const BN_TRAIN = 'DlcvBatchNormTrain';
export const BN_TRAIN_GRAD = 'DlcvBatchNormTrainGrad';
export const GROUP_NORM = 'DlcvGroupNorm';
export const GROUP_NORM_GRAD = 'DlcvGroupNormGrad';

const ACT = { elu: 0, relu: 1, leakyrelu: 2, sigmoid: 3, tanh: 4, gelu: 5 } as const;

function vals(b: CpuLikeBackend, t: TensorInfo): Float32Array {
  const v = b.data.get(t.dataId).values;
  if (t.dtype !== 'float32' || !(v instanceof Float32Array)) throw new Error(`dlcv-native fused kernel: ${t.dtype} input`);
  return v;
}

export function registerFused(addon: NativeAddon, backendName: string): void {
  type KArgs = { inputs: NamedTensorInfoMap; backend: CpuLikeBackend; attrs?: Record<string, unknown> };
  const geluCode = addon.opCodes().unary.Gelu!;
  const kernels: KernelConfig[] = [
    {
      kernelName: ACT_GRAD, backendName,
      kernelFunc: (({ inputs, backend, attrs }: KArgs) => {
        const dy = vals(backend, inputs.dy!), s = vals(backend, inputs.saved!);
        const o = outputF32(dy.length);
        addon.unaryGrad(attrs!.op as number, dy, s, o, (attrs!.alpha as number) ?? 0);
        return backend.makeTensorInfo(inputs.dy!.shape, 'float32', o);
      }) as never,
    },
    {
      kernelName: GELU, backendName,
      kernelFunc: (({ inputs, backend }: KArgs) => {
        const x = vals(backend, inputs.x!);
        const o = outputF32(x.length);
        addon.unary(geluCode, x, o, 0, 0);
        return backend.makeTensorInfo(inputs.x!.shape, 'float32', o);
      }) as never,
    },
    {
      kernelName: BN_TRAIN, backendName,
      kernelFunc: (({ inputs, backend, attrs }: KArgs) => {
        const x = inputs.x!;
        const xv = vals(backend, x);
        const c = x.shape[x.shape.length - 1]!;
        const y = outputF32(xv.length), mean = new Float32Array(c), variance = new Float32Array(c),
          invStd = new Float32Array(c);
        addon.batchNormTrain(xv, xv.length / c, c, vals(backend, inputs.scale!), vals(backend, inputs.offset!),
          attrs!.eps as number, y, mean, variance, invStd);
        return [
          backend.makeTensorInfo(x.shape, 'float32', y), backend.makeTensorInfo([c], 'float32', mean),
          backend.makeTensorInfo([c], 'float32', variance), backend.makeTensorInfo([c], 'float32', invStd),
        ];
      }) as never,
    },
    {
      kernelName: BN_TRAIN_GRAD, backendName,
      kernelFunc: (({ inputs, backend }: KArgs) => {
        const x = inputs.x!;
        const xv = vals(backend, x);
        const c = x.shape[x.shape.length - 1]!;
        const dx = outputF32(xv.length), ds = new Float32Array(c), dof = new Float32Array(c);
        addon.batchNormTrainGrad(vals(backend, inputs.dy!), xv, xv.length / c, c, vals(backend, inputs.scale!),
          vals(backend, inputs.mean!), vals(backend, inputs.invStd!), dx, ds, dof);
        return [
          backend.makeTensorInfo(x.shape, 'float32', dx), backend.makeTensorInfo([c], 'float32', ds),
          backend.makeTensorInfo([c], 'float32', dof),
        ];
      }) as never,
    },
    {
      kernelName: GROUP_NORM, backendName,
      kernelFunc: (({ inputs, backend, attrs }: KArgs) => {
        const x = inputs.x!;
        const xv = vals(backend, x);
        const groups = attrs!.groups as number;
        const c = x.shape[x.shape.length - 1]!, n = x.shape[0]!;
        const y = outputF32(xv.length), mean = new Float32Array(n * groups), invStd = new Float32Array(n * groups);
        addon.groupNorm(xv, n, xv.length / (n * c), c, groups, vals(backend, inputs.scale!), vals(backend, inputs.offset!),
          attrs!.eps as number, y, mean, invStd);
        return [
          backend.makeTensorInfo(x.shape, 'float32', y), backend.makeTensorInfo([n, groups], 'float32', mean),
          backend.makeTensorInfo([n, groups], 'float32', invStd),
        ];
      }) as never,
    },
    {
      kernelName: GROUP_NORM_GRAD, backendName,
      kernelFunc: (({ inputs, backend, attrs }: KArgs) => {
        const x = inputs.x!;
        const xv = vals(backend, x);
        const groups = attrs!.groups as number;
        const c = x.shape[x.shape.length - 1]!, n = x.shape[0]!;
        const dx = outputF32(xv.length), ds = new Float32Array(c), dof = new Float32Array(c);
        addon.groupNormGrad(vals(backend, inputs.dy!), xv, n, xv.length / (n * c), c, groups, vals(backend, inputs.scale!),
          vals(backend, inputs.mean!), vals(backend, inputs.invStd!), dx, ds, dof);
        return [
          backend.makeTensorInfo(x.shape, 'float32', dx), backend.makeTensorInfo([c], 'float32', ds),
          backend.makeTensorInfo([c], 'float32', dof),
        ];
      }) as never,
    },
  ];
  const have = new Set(tf.getKernelsForBackend(backendName).map((k) => k.kernelName));
  for (const k of kernels) if (!have.has(k.kernelName)) tf.registerKernel(k);

  // Gradients of the new kernels (kernel names are ours, so these are not overrides).
  const actGrad = (dy: tf.Tensor, saved: tf.Tensor, op: number, alpha = 0) =>
    tf.engine().runKernel(ACT_GRAD, { dy, saved } as never, { op, alpha } as never) as tf.Tensor;
  tf.registerGradient({
    kernelName: GELU, inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => actGrad(dy as tf.Tensor, saved[0]!, ACT.gelu) }),
  });
  tf.registerGradient({
    kernelName: BN_TRAIN, inputsToSave: ['x', 'scale'], outputsToSave: [false, true, false, true],
    gradFunc: (dys, saved) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [x, scale, mean, invStd] = saved as tf.Tensor[];
      // Computed eagerly (not inside a thunk): the engine runs each thunk in its own tidy, which
      // would dispose the sibling outputs; unused ones are released by the backward pass's tidy.
      const r = tf.engine().runKernel(BN_TRAIN_GRAD, { dy, x, scale, mean, invStd } as never, {}) as tf.Tensor[];
      const get = (i: number) => () => r[i]!;
      return { x: get(0), scale: get(1), offset: get(2) };
    },
  });

  tf.registerGradient({
    kernelName: GROUP_NORM, inputsToSave: ['x', 'scale'], outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [x, scale, mean, invStd] = saved as tf.Tensor[];
      // eager for the same reason as BN_TRAIN's gradient
      const r = tf.engine().runKernel(GROUP_NORM_GRAD, { dy, x, scale, mean, invStd } as never,
        { groups: (attrs as { groups: number }).groups } as never) as tf.Tensor[];
      const get = (i: number) => () => r[i]!;
      return { x: get(0), scale: get(1), offset: get(2) };
    },
  });

  // Wrap the stock activation gradients: same saved tensors, one fused kernel on our backend.
  const wrap = (kernelName: string, op: number, useAlpha = false) => {
    const orig = tf.getGradient(kernelName) as GradConfig | undefined;
    if (!orig || (orig as { __dlcvNative?: boolean }).__dlcvNative) return;
    const cfg: GradConfig & { __dlcvNative?: boolean } = {
      ...orig,
      gradFunc: (dy, saved, attrs) => {
        const s = saved[0];
        if (tf.getBackend() !== backendName || !s || s.dtype !== 'float32' || Array.isArray(dy)) {
          return orig.gradFunc(dy, saved, attrs);
        }
        const alpha = useAlpha ? ((attrs as { alpha?: number }).alpha ?? 0.2) : 0;
        return { x: () => actGrad(dy, s, op, alpha) };
      },
    };
    cfg.__dlcvNative = true;
    tf.registerGradient(cfg);
  };
  wrap('Relu', ACT.relu);
  wrap('LeakyRelu', ACT.leakyrelu, true);
  wrap('Sigmoid', ACT.sigmoid);
  wrap('Tanh', ACT.tanh);
}
