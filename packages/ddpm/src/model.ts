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

/**
 * How wireUnet builds or runs the network: each layer is called by name, made by `make` where a
 * model is built (buildUnet) or a built model's own where it is run (guided-forward.ts).
 */
export interface UnetWiring<T> {
  layer(name: string, make: (name: string) => tf.layers.Layer, x: T | T[]): T;
  /** What the layers after the down path read of one of its outputs (see wireUnet). */
  fromDownPath(x: T): T;
}

const conv3x3 = (filters: number) => (name: string) => tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', name, kernelInitializer: 'zeros' });
const dense = (units: number) => (name: string) => tf.layers.dense({ units, name, kernelInitializer: 'zeros' });
const convTranspose = (filters: number, size: number) => (name: string) =>
  tf.layers.conv2dTranspose({ filters, kernelSize: size, strides: size, padding: 'valid', name, kernelInitializer: 'zeros' });

function convBnGelu<T>(w: UnetWiring<T>, x: T, filters: number, name: string): T {
  const h = w.layer(`${name}.0`, conv3x3(filters), x);
  // core's BatchNorm2d and Gelu: PyTorch semantics (unbiased running variance, momentum 0.1),
  // one fused native kernel each way on the native engine.
  const normed = w.layer(`${name}.1`, (name) => new BatchNorm2d({ numFeatures: filters, name }), h);
  return w.layer(`${name}.2`, (name) => new Gelu({ name }), normed);
}

/**
 * (Conv + BatchNorm + GELU) x 2; with `residual`, the sum of the block's input ('input', same
 * channels) or first half's output ('first', channels changed: the reference's "correct
 * residual") and its output, divided by 1.414.
 */
function residualConvBlock<T>(w: UnetWiring<T>, x: T, filters: number, name: string, residual?: 'input' | 'first'): T {
  const x1 = convBnGelu(w, x, filters, `${name}.conv1`);
  const x2 = convBnGelu(w, x1, filters, `${name}.conv2`);
  if (!residual) return x2;
  return w.layer(`${name}.res`, (name) => new ScaledAdd({ scale: 1 / 1.414, name }), [residual === 'input' ? x : x1, x2]);
}

function embedFc<T>(w: UnetWiring<T>, x: T, dim: number, name: string): T {
  const h = w.layer(`${name}.model.0`, dense(dim), x);
  const g = w.layer(`${name}.model.1`, (name) => new Gelu({ name }), h);
  return w.layer(`${name}.model.2`, dense(dim), g);
}

function unetUp<T>(w: UnetWiring<T>, x: T, skip: T, filters: number, name: string): T {
  const cat = w.layer(`${name}.cat`, (name) => tf.layers.concatenate({ axis: -1, name }), [x, skip]);
  const up = w.layer(`${name}.model.0`, convTranspose(filters, 2), cat);
  const b1 = residualConvBlock(w, up, filters, `${name}.model.1`);
  return residualConvBlock(w, b1, filters, `${name}.model.2`);
}

/** The U-Net's four inputs as symbolic tensors. */
function unetInputs(config: UnetConfig): { x: Sym; t: Sym; c: Sym; mask: Sym } {
  const { inChannels, nClasses, imageSize } = config;
  return {
    x: tf.input({ shape: [imageSize, imageSize, inChannels], name: 'x' }),
    t: tf.input({ shape: [1], name: 't' }),
    c: tf.input({ shape: [nClasses], name: 'c' }),
    mask: tf.input({ shape: [1], name: 'context_mask' }),
  };
}

/**
 * The U-Net from its inputs to its output, through `w`. The down path (init_conv, down1, down2,
 * to_vec, up0) reads x alone; the layers after it read its four outputs through w.fromDownPath.
 */
export function wireUnet<T>(config: UnetConfig, inputs: { x: T; t: T; c: T; mask: T }, w: UnetWiring<T>): T {
  const { nFeat: n, inChannels, imageSize, groups } = config;
  const bottleneck = imageSize / 4;
  const { x, t, c, mask } = inputs;

  const x0 = residualConvBlock(w, x, n, 'init_conv', inChannels === n ? 'input' : 'first');
  const down1 = w.layer('down1.model.1', (name) => tf.layers.maxPooling2d({ poolSize: 2, name }), residualConvBlock(w, x0, n, 'down1.model.0'));
  const down2 = w.layer('down2.model.1', (name) => tf.layers.maxPooling2d({ poolSize: 2, name }), residualConvBlock(w, down1, 2 * n, 'down2.model.0'));
  const pooled = w.layer('to_vec.0', (name) => tf.layers.averagePooling2d({ poolSize: bottleneck, name }), down2);
  const hidden = w.layer('to_vec.1', (name) => new Gelu({ name }), pooled);

  const cMasked = w.layer('context_mask_apply', (name) => new ContextMask({ name }), [c, mask]);
  const cemb1 = embedFc(w, cMasked, 2 * n, 'contextembed1');
  const temb1 = embedFc(w, t, 2 * n, 'timeembed1');
  const cemb2 = embedFc(w, cMasked, n, 'contextembed2');
  const temb2 = embedFc(w, t, n, 'timeembed2');

  // up0 reads the down path alone, but its layers are made after the embeddings': a checkpoint
  // holds the optimizer's state in the order the weights were made, so that order keeps its bytes
  const up0t = w.layer('up0.0', convTranspose(2 * n, bottleneck), hidden);
  const up0n = w.layer('up0.1', (name) => new GroupNorm({ groups, name }), up0t);
  const up0 = w.layer('up0.2', (name) => tf.layers.activation({ activation: 'relu', name }), up0n);

  const film1 = w.layer('film1', (name) => new Film({ name }), [w.fromDownPath(up0), cemb1, temb1]);
  const up2 = unetUp(w, film1, w.fromDownPath(down2), n, 'up1');
  const film2 = w.layer('film2', (name) => new Film({ name }), [up2, cemb2, temb2]);
  const up3 = unetUp(w, film2, w.fromDownPath(down1), n, 'up2');

  const cat = w.layer('out.cat', (name) => tf.layers.concatenate({ axis: -1, name }), [up3, w.fromDownPath(x0)]);
  const out0 = w.layer('out.0', conv3x3(n), cat);
  const out1 = w.layer('out.1', (name) => new GroupNorm({ groups, name }), out0);
  const out2 = w.layer('out.2', (name) => tf.layers.activation({ activation: 'relu', name }), out1);
  return w.layer('out.3', conv3x3(inChannels), out2);
}

/**
 * Builds the U-Net with all weights zero (BatchNorm/GroupNorm scales one); createUnet then
 * draws PyTorch's default initialisation, so that initial weights come from the project's seeded RNG.
 */
export function buildUnet(config: UnetConfig): tf.LayersModel {
  const inputs = unetInputs(validateUnetConfig(config));
  const out = wireUnet<Sym>(config, inputs, { layer: (name, make, x) => make(name).apply(x) as Sym, fromDownPath: (x) => x });
  return tf.model({ inputs: [inputs.x, inputs.t, inputs.c, inputs.mask], outputs: out, name: 'ContextUnet' });
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
