/**
 * The conditional U-Net of the report (its printout) and of Conditional_Diffusion_MNIST's
 * ContextUnet, as a tfjs functional LayersModel in NHWC:
 *
 *   init_conv  ResidualConvBlock(in, n, residual)                      28x28xn
 *   down1      ResidualConvBlock(n, n) + MaxPool 2                     14x14xn
 *   down2      ResidualConvBlock(n, 2n) + MaxPool 2                     7x7x2n
 *   to_vec     AvgPool 7 + GELU                                         1x1x2n
 *   up0        ConvTranspose 7x7 s7 + GroupNorm(8) + ReLU               7x7x2n
 *   up1        [c_emb1 * up0 + t_emb1, down2] -> ConvT 2x2 s2 + 2 blocks 14x14xn
 *   up2        [c_emb2 * up1 + t_emb2, down1] -> ConvT 2x2 s2 + 2 blocks 28x28xn
 *   out        [up2, init_conv] -> Conv 3x3 n + GroupNorm(8) + ReLU + Conv 3x3 in
 *
 * ResidualConvBlock = (Conv 3x3 + BatchNorm + GELU) x 2; only init_conv adds its residual, as in
 * the reference (is_res=True there alone), dividing the sum by 1.414. Embeddings are EmbedFC:
 * Linear + GELU + Linear, of t (1 value) and of the masked one-hot class (10 values).
 *
 * Layer names follow the PyTorch module paths ("down1.model.0.conv1.0"), so a weight converter
 * or an ONNX export can map the two one to one.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchNorm2d, checkJson, Gelu, initTorchDefault, Rng, z } from '@dlcv/core';
import { ContextMask } from './layers/context-mask';
import { Film } from './layers/film';
import { GroupNorm } from './layers/group-norm';
import { ScaledAdd } from './layers/scaled-add';

export const unetConfigSchema = z
  .object({
    /** Base width. The report and the reference use 128 ("128 ok, 256 better but slower"). */
    nFeat: z.number().int().min(1),
    /** Image channels: 3 for MNIST-M (the reference's MNIST had 1). */
    inChannels: z.number().int().min(1),
    /** Number of classes of the one-hot condition. */
    nClasses: z.number().int().min(1),
    /** Image side; a multiple of 4 (two 2x poolings); the bottleneck pools (size/4)^2 to 1x1. */
    imageSize: z.number().int().min(4).multipleOf(4),
    /** GroupNorm groups in up0 and out (the reference: 8); must divide nFeat. */
    groups: z.number().int().min(1),
  })
  .refine((c) => c.nFeat % c.groups === 0, { message: 'nFeat must be divisible by groups', path: ['groups'] });

export type UnetConfig = z.infer<typeof unetConfigSchema>;

export const DEFAULT_UNET_CONFIG: UnetConfig = { nFeat: 128, inChannels: 3, nClasses: 10, imageSize: 28, groups: 8 };

export function validateUnetConfig(c: UnetConfig, where = 'unet config'): UnetConfig {
  return checkJson(c, unetConfigSchema, where);
}

/** The model's four inputs, in order. */
export interface UnetInputs {
  /** Noisy images [B, S, S, C] in [-1, 1] scale. */
  x: tf.Tensor4D;
  /** Time [B, 1]: the timestep as a fraction of the training steps (see modelTime). */
  t: tf.Tensor2D;
  /** One-hot class [B, nClasses]. */
  c: tf.Tensor2D;
  /** [B, 1]: 1 drops the class (unconditional), 0 keeps it. */
  mask: tf.Tensor2D;
}

type Sym = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Sym | Sym[]) => layer.apply(x) as Sym;

function convBnGelu(x: Sym, filters: number, name: string): Sym {
  let h = apply(tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', name: `${name}.0`, kernelInitializer: 'zeros' }), x);
  // core's BatchNorm2d and Gelu: PyTorch semantics (unbiased running variance, momentum 0.1),
  // one fused native kernel each way on the native engine.
  h = apply(new BatchNorm2d({ numFeatures: filters, name: `${name}.1` }), h);
  return apply(new Gelu({ name: `${name}.2` }), h);
}

function residualConvBlock(x: Sym, filters: number, name: string, isRes = false): Sym {
  const x1 = convBnGelu(x, filters, `${name}.conv1`);
  const x2 = convBnGelu(x1, filters, `${name}.conv2`);
  if (!isRes) return x2;
  const inChannels = x.shape[x.shape.length - 1];
  // Same channels: x + x2; channels changed: x1 + x2 (the reference's "correct residual").
  return apply(new ScaledAdd({ scale: 1 / 1.414, name: `${name}.res` }), [inChannels === filters ? x : x1, x2]);
}

function embedFc(x: Sym, dim: number, name: string): Sym {
  const h = apply(tf.layers.dense({ units: dim, name: `${name}.model.0`, kernelInitializer: 'zeros' }), x);
  const g = apply(new Gelu({ name: `${name}.model.1` }), h);
  return apply(tf.layers.dense({ units: dim, name: `${name}.model.2`, kernelInitializer: 'zeros' }), g);
}

function unetUp(x: Sym, skip: Sym, filters: number, name: string): Sym {
  const cat = apply(tf.layers.concatenate({ axis: -1, name: `${name}.cat` }), [x, skip]);
  const up = apply(tf.layers.conv2dTranspose({ filters, kernelSize: 2, strides: 2, padding: 'valid', name: `${name}.model.0`, kernelInitializer: 'zeros' }), cat);
  const b1 = residualConvBlock(up, filters, `${name}.model.1`);
  return residualConvBlock(b1, filters, `${name}.model.2`);
}

/**
 * Builds the U-Net with all weights zero (BatchNorm/GroupNorm scales one); createUnet then
 * draws PyTorch's default initialisation, so that initial weights come from the project's seeded RNG.
 */
export function buildUnet(config: UnetConfig): tf.LayersModel {
  const { nFeat: n, inChannels, nClasses, imageSize, groups } = validateUnetConfig(config);
  const bottleneck = imageSize / 4;
  const x = tf.input({ shape: [imageSize, imageSize, inChannels], name: 'x' });
  const t = tf.input({ shape: [1], name: 't' });
  const c = tf.input({ shape: [nClasses], name: 'c' });
  const mask = tf.input({ shape: [1], name: 'context_mask' });

  const x0 = residualConvBlock(x, n, 'init_conv', true);
  const down1 = apply(tf.layers.maxPooling2d({ poolSize: 2, name: 'down1.model.1' }), residualConvBlock(x0, n, 'down1.model.0'));
  const down2 = apply(tf.layers.maxPooling2d({ poolSize: 2, name: 'down2.model.1' }), residualConvBlock(down1, 2 * n, 'down2.model.0'));
  const pooled = apply(tf.layers.averagePooling2d({ poolSize: bottleneck, name: 'to_vec.0' }), down2);
  const hidden = apply(new Gelu({ name: 'to_vec.1' }), pooled);

  const cMasked = apply(new ContextMask({ name: 'context_mask_apply' }), [c, mask]);
  const cemb1 = embedFc(cMasked, 2 * n, 'contextembed1');
  const temb1 = embedFc(t, 2 * n, 'timeembed1');
  const cemb2 = embedFc(cMasked, n, 'contextembed2');
  const temb2 = embedFc(t, n, 'timeembed2');

  let up1 = apply(tf.layers.conv2dTranspose({ filters: 2 * n, kernelSize: bottleneck, strides: bottleneck, padding: 'valid', name: 'up0.0', kernelInitializer: 'zeros' }), hidden);
  up1 = apply(new GroupNorm({ groups, name: 'up0.1' }), up1);
  up1 = apply(tf.layers.activation({ activation: 'relu', name: 'up0.2' }), up1);
  const up2 = unetUp(apply(new Film({ name: 'film1' }), [up1, cemb1, temb1]), down2, n, 'up1');
  const up3 = unetUp(apply(new Film({ name: 'film2' }), [up2, cemb2, temb2]), down1, n, 'up2');

  let out = apply(tf.layers.concatenate({ axis: -1, name: 'out.cat' }), [up3, x0]);
  out = apply(tf.layers.conv2d({ filters: n, kernelSize: 3, padding: 'same', name: 'out.0', kernelInitializer: 'zeros' }), out);
  out = apply(new GroupNorm({ groups, name: 'out.1' }), out);
  out = apply(tf.layers.activation({ activation: 'relu', name: 'out.2' }), out);
  out = apply(tf.layers.conv2d({ filters: inChannels, kernelSize: 3, padding: 'same', name: 'out.3', kernelInitializer: 'zeros' }), out);
  return tf.model({ inputs: [x, t, c, mask], outputs: out, name: 'ContextUnet' });
}

/** A fresh model with PyTorch's default initialisation drawn from the seed. */
export function createUnet(config: UnetConfig, seed: number): tf.LayersModel {
  const model = buildUnet(config);
  // Stream 11: model init, apart from the data and noise streams of training.
  initTorchDefault(model, new Rng(seed, 11));
  return model;
}

/** Runs the model: eps prediction [B, S, S, C]. */
export function predictNoise(model: tf.LayersModel, inputs: UnetInputs, training = false): tf.Tensor4D {
  return model.apply([inputs.x, inputs.t, inputs.c, inputs.mask], { training }) as tf.Tensor4D;
}
