// tf.fused.matMul and tf.fused.conv2d (tfjs-layers' Dense and Conv2D, dann's dense layers) as one
// kernel call with a registered gradient, on the backends that have core's fused kernels.
//
// tfjs's versions wrap the _FusedMatMul and FusedConv2D kernels in a custom gradient: a matMul
// reshapes both inputs to 3D and its result back (three Reshape kernels, each with its own
// gradient), and both record the custom op as one more kernel call; its gradient computes every
// input's gradient, needed or not (a network's first layer gets the gradient of its input), and
// reshapes the bias gradient to the shape it already has. Here the kernel runs on the tensors as
// they are (2D for a matMul), and the gradients below compute each input's gradient only when the
// backward pass asks for it, with the kernels of tfjs's gradient in the same arithmetic, so the
// values are the same bits: the Reshapes change no values, and a batch of one runs the same
// device matrix product either way. Calls outside what that covers (other ranks, a bias of another
// shape, prelu, dilations, activations whose gradient tfjs does not fuse, any other backend) go
// to tfjs's own version.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs';

import { ACT_GRAD } from './names';

type FusedMatMulArgs = Parameters<typeof tf.fused.matMul>[0];
type FusedConv2DArgs = Parameters<typeof tf.fused.conv2d>[0];
type Fused = { matMul: typeof tf.fused.matMul; conv2d: typeof tf.fused.conv2d; __dlcvDirect?: { matMul: typeof tf.fused.matMul; conv2d: typeof tf.fused.conv2d } };

/** Activations whose gradient tfjs's fused ops compute (getFusedDyActivation). */
const GRADIENT_ACTIVATIONS = ['linear', 'relu'];

/** tfjs's rule (shouldFuse): inside a gradient's own recording only a linear activation fuses. */
function fuses(activation: string): boolean {
  return GRADIENT_ACTIVATIONS.includes(activation) && ((tf.engine().state as unknown as { gradientDepth: number }).gradientDepth === 0 || activation === 'linear');
}

const isFloat = (t: unknown, rank: number): t is tf.Tensor => t instanceof tf.Tensor && t.dtype === 'float32' && t.rank === rank;
/** No bias, or a float32 vector of one value per output channel. */
const channelBias = (bias: unknown, channels: number) => bias == null || (isFloat(bias, 1) && bias.shape[0] === channels);
const coreBackend = () => tf.getKernel(ACT_GRAD, tf.getBackend()) != null;

/**
 * dy through the fused activation, as tfjs's getFusedDyActivation. Each input's part makes its
 * own (inside that part's tidy), so none outlives the part that reads it. A relu reaches here only
 * from a kernel called directly inside a gradient: tf.fused's ops record relu unfused there.
 */
function dyThroughActivation(dy: tf.Tensor, y: tf.Tensor, activation: string): tf.Tensor {
  return activation === 'relu' ? tf.mul(dy, tf.step(y)) : dy;
}

/** The gradient of a per-channel bias: dy summed over every axis but the last. */
const biasGradient = (dy: tf.Tensor) => tf.sum(dy, [...Array(dy.rank - 1).keys()]);

function directMatMul(original: typeof tf.fused.matMul, args: FusedMatMulArgs): tf.Tensor {
  const { a, b, transposeA = false, transposeB = false, bias, activation = 'linear', preluActivationWeights, leakyreluAlpha = 0.2 } = args;
  if (!coreBackend() || preluActivationWeights != null || !fuses(activation) || !isFloat(a, 2) || !isFloat(b, 2)) return original(args);
  const k = transposeA ? a.shape[0] : a.shape[1];
  if (k !== (transposeB ? b.shape[1] : b.shape[0]) || !channelBias(bias, transposeB ? b.shape[0]! : b.shape[1]!)) return original(args);
  const inputs: tf.NamedTensorMap = bias == null ? { a, b } : { a, b, bias: bias as tf.Tensor };
  return tf.engine().runKernel(tf._FusedMatMul, inputs, { transposeA, transposeB, activation, leakyreluAlpha } as never) as tf.Tensor;
}

function directConv2d(original: typeof tf.fused.conv2d, args: FusedConv2DArgs): tf.Tensor {
  const { x, filter, strides, pad, dataFormat = 'NHWC', dilations = [1, 1], dimRoundingMode, bias, preluActivationWeights, leakyreluAlpha } = args;
  const activation = args.activation || 'linear'; // as tfjs's: tfjs-layers passes null for an activation it applies itself
  const unitDilations = typeof dilations === 'number' ? dilations === 1 : dilations.every((d) => d === 1);
  if (!coreBackend() || preluActivationWeights != null || !fuses(activation) || dataFormat !== 'NHWC' || !unitDilations || typeof pad !== 'string') return original(args);
  if (!isFloat(x, 4) || !isFloat(filter, 4) || x.shape[3] !== filter.shape[2] || !channelBias(bias, filter.shape[3]!)) return original(args);
  const inputs: tf.NamedTensorMap = bias == null ? { x, filter } : { x, filter, bias: bias as tf.Tensor };
  const attrs = { strides, pad, dataFormat, dilations, dimRoundingMode, activation, leakyreluAlpha };
  return tf.engine().runKernel(tf.FusedConv2D, inputs, attrs as never) as tf.Tensor;
}

/** _FusedMatMul's gradient on 2D inputs: tfjs's fused matMul gradient without its reshapes. */
export const fusedMatMulGradient: GradConfig = {
  kernelName: tf._FusedMatMul,
  inputsToSave: ['a', 'b'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [a, b, y] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const { transposeA, transposeB, activation } = attrs as { transposeA: boolean; transposeB: boolean; activation: string };
    const dz = () => dyThroughActivation(dy as tf.Tensor, y, activation);
    return {
      a: () => (transposeA ? tf.matMul(b, dz(), transposeB, true) : tf.matMul(dz(), b, false, !transposeB)),
      b: () => (transposeB ? tf.matMul(dz(), a, true, transposeA) : tf.matMul(a, dz(), !transposeA, false)),
      bias: () => biasGradient(dz()),
    };
  },
};

/** FusedConv2D's gradient (NHWC, unit dilations): tfjs's fused conv2d gradient, each part on demand. */
export const fusedConv2DGradient: GradConfig = {
  kernelName: tf.FusedConv2D,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, activation } = attrs as unknown as { strides: [number, number]; pad: 'same' | 'valid'; activation: string };
    const dz = () => dyThroughActivation(dy as tf.Tensor, y, activation);
    // tfjs's gradient passes the NHWC default and no rounding mode to both kernels
    const common = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    return {
      x: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dz(), filter }, { ...common, inputShape: x.shape } as never) as tf.Tensor,
      filter: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dz() }, { ...common, filterShape: filter.shape } as never) as tf.Tensor,
      bias: () => biasGradient(dz()),
    };
  },
};

/** Whether tf.fused's ops run as single kernels (the versions here) on the active backend. */
export function fusedOpsRunDirect(): boolean {
  return (tf.fused as unknown as Fused).__dlcvDirect !== undefined && coreBackend();
}

/**
 * Puts the direct versions in tf.fused (where tfjs-layers and the packages find them at each
 * call) and registers their kernels' gradients, which tfjs does not have (idempotent).
 */
export function useDirectFusedOps(): void {
  tf.registerGradient(fusedMatMulGradient);
  tf.registerGradient(fusedConv2DGradient);
  const fused = tf.fused as unknown as Fused;
  if (fused.__dlcvDirect) return;
  const original = { matMul: fused.matMul, conv2d: fused.conv2d };
  fused.matMul = ((args: FusedMatMulArgs) => directMatMul(original.matMul, args)) as typeof tf.fused.matMul;
  fused.conv2d = ((args: FusedConv2DArgs) => directConv2d(original.conv2d, args)) as typeof tf.fused.conv2d;
  fused.__dlcvDirect = original;
}
