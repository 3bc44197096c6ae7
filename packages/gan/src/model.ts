/**
 * DCGAN generator and discriminator for 64x64 images, exactly the report's model A (the PyTorch
 * DCGAN tutorial's networks) and model B (the same with every channel count doubled).
 *
 * Layout is NHWC (tfjs); PyTorch's NCHW printout is reproduced by `torchRepr` from the built
 * layers themselves, so a test can hold the tfjs models to the report's text.
 * Padding: tfjs 'same' with kernel 4 and stride 2 pads 1 pixel on each side, which is PyTorch's
 * padding=1 for both Conv2d (64 -> 32) and ConvTranspose2d (32 -> 64); 'valid' is padding=0.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchNorm2d, checkJson, type Rng } from '@dlcv/core';
import { dcganConfigSchema, type DcganConfig } from './config';

export type { DcganConfig } from './config';

/** 4x4 -> 8 -> 16 -> 32 -> 64: the architecture has exactly four stride-2 stages. */
export const IMAGE_SIZE = 64;

export const MODEL_PRESETS = {
  /** Report's model A = PyTorch DCGAN tutorial (ngf = ndf = 64). */
  A: { nz: 100, ngf: 64, ndf: 64, channels: 3 },
  /** Report's model B: "I doubled the number of channels". */
  B: { nz: 100, ngf: 128, ndf: 128, channels: 3 },
} as const satisfies Record<string, DcganConfig>;

export type ModelName = keyof typeof MODEL_PRESETS;
export const MODEL_NAMES = Object.keys(MODEL_PRESETS) as ModelName[];

/** Checks a DCGAN config, naming the field of each problem (`where` names the source). */
export function checkConfig(config: DcganConfig, where = 'DCGAN config'): DcganConfig {
  return checkJson(config, dcganConfigSchema, where);
}

// PyTorch BatchNorm2d defaults, which the report prints.
const BN = { eps: 1e-5, momentum: 0.1 };

/**
 * The DCGAN's convolutions: 4x4 kernels without bias, stride 2 with PyTorch's padding 1 ('same')
 * or stride 1 with none ('valid'). `inputShape` for a network's first layer.
 */
function dcganConv(kind: 'conv2d' | 'conv2dTranspose', filters: number, strides: number, inputShape?: number[]): tf.layers.Layer {
  const args = {
    filters,
    kernelSize: 4,
    strides,
    padding: strides === 1 ? ('valid' as const) : ('same' as const),
    useBias: false,
    // Zeros here: initDcganWeights or a checkpoint sets the weights (tfjs's default Glorot
    // draw would cost seconds for model B and be thrown away).
    kernelInitializer: 'zeros' as const,
    ...(inputShape ? { inputShape } : {}),
  };
  return kind === 'conv2d' ? tf.layers.conv2d(args) : tf.layers.conv2dTranspose(args);
}

/** z [n, 1, 1, nz] -> image [n, 64, 64, channels] in [-1, 1]. Weights all zero: see createGenerator. */
export function buildGenerator(config: DcganConfig): tf.Sequential {
  checkConfig(config);
  const { nz, ngf, channels } = config;
  const g = tf.sequential();
  // 1x1 -> 4x4
  g.add(dcganConv('conv2dTranspose', ngf * 8, 1, [1, 1, nz]));
  g.add(new BatchNorm2d({ numFeatures: ngf * 8, ...BN }));
  g.add(tf.layers.reLU());
  // 4 -> 8 -> 16 -> 32
  for (const mult of [4, 2, 1]) {
    g.add(dcganConv('conv2dTranspose', ngf * mult, 2));
    g.add(new BatchNorm2d({ numFeatures: ngf * mult, ...BN }));
    g.add(tf.layers.reLU());
  }
  // 32 -> 64
  g.add(dcganConv('conv2dTranspose', channels, 2));
  g.add(tf.layers.activation({ activation: 'tanh' }));
  return g;
}

/** image [n, 64, 64, channels] -> probability of "real" [n, 1, 1, 1]. Weights all zero: see createDiscriminator. */
export function buildDiscriminator(config: DcganConfig): tf.Sequential {
  checkConfig(config);
  const { ndf, channels } = config;
  const d = tf.sequential();
  // 64 -> 32, no BatchNorm on the input stage (DCGAN paper, section 3)
  d.add(dcganConv('conv2d', ndf, 2, [IMAGE_SIZE, IMAGE_SIZE, channels]));
  d.add(tf.layers.leakyReLU({ alpha: 0.2 }));
  // 32 -> 16 -> 8 -> 4
  for (const mult of [2, 4, 8]) {
    d.add(dcganConv('conv2d', ndf * mult, 2));
    d.add(new BatchNorm2d({ numFeatures: ndf * mult, ...BN }));
    d.add(tf.layers.leakyReLU({ alpha: 0.2 }));
  }
  // 4x4 -> 1x1
  d.add(dcganConv('conv2d', 1, 1));
  d.add(tf.layers.activation({ activation: 'sigmoid' }));
  return d;
}

/**
 * The DCGAN tutorial's `weights_init`: conv and conv-transpose kernels from N(0, 0.02),
 * BatchNorm weight (gamma) from N(1, 0.02) and bias (beta) 0. Drawn from `rng` layer by layer in
 * model order, so a seed fixes every weight on every engine.
 */
export function initDcganWeights(model: tf.LayersModel, rng: Rng): void {
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const cls = layer.getClassName();
    let fresh: tf.Tensor[];
    if (cls === 'Conv2D' || cls === 'Conv2DTranspose') {
      fresh = weights.map((w) => tf.tensor(rng.normalArray(w.size, 0.02, 0), w.shape));
    } else if (layer instanceof BatchNorm2d) {
      const [gamma, beta, mean, variance] = weights as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      fresh = [tf.tensor(rng.normalArray(gamma.size, 0.02, 1), gamma.shape), tf.zerosLike(beta), tf.zerosLike(mean), tf.onesLike(variance)];
    } else {
      throw new Error(`initDcganWeights: no rule for layer ${layer.name} (${cls})`);
    }
    layer.setWeights(fresh);
    tf.dispose(fresh);
  }
}

export function createGenerator(config: DcganConfig, rng: Rng): tf.Sequential {
  const g = buildGenerator(config);
  initDcganWeights(g, rng);
  return g;
}

export function createDiscriminator(config: DcganConfig, rng: Rng): tf.Sequential {
  const d = buildDiscriminator(config);
  initDcganWeights(d, rng);
  return d;
}

/** The discriminator's pre-sigmoid output [n]: the trainer's BCE works on logits for stability. */
export function discriminatorLogits(d: tf.LayersModel, x: tf.Tensor4D, training: boolean): tf.Tensor1D {
  const last = d.layers[d.layers.length - 1];
  if (!last || last.getClassName() !== 'Activation') throw new Error('discriminatorLogits: the discriminator must end with its sigmoid layer');
  let h: tf.Tensor = x;
  for (const layer of d.layers.slice(0, -1)) h = layer.apply(h, { training }) as tf.Tensor;
  return tf.reshape(h, [-1]);
}

/** Standard-normal noise [n, 1, 1, nz] from the seeded generator (never tf.randomNormal). */
export function noiseBatch(rng: Rng, n: number, nz: number): tf.Tensor4D {
  return tf.tensor4d(rng.normalArray(n * nz), [n, 1, 1, nz]);
}

/** Python's repr of a float: 1e-05, 0.1, 0.2. */
function pyFloat(v: number): string {
  if (v !== 0 && Math.abs(v) < 1e-4) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

/** PyTorch padding for a tfjs conv padding mode (kernel k, stride s), or an error if it has none. */
function torchPadding(padding: string, k: number, s: number, layer: string): number {
  if (padding === 'valid') return 0;
  if ((k - s) % 2 !== 0 || k < s) throw new Error(`torchRepr: ${layer}: 'same' padding with kernel ${k}, stride ${s} is asymmetric, PyTorch has no equivalent`);
  return (k - s) / 2;
}

/** One layer as PyTorch prints it. In/out channels are read from the weights, not the config. */
function torchLayerRepr(layer: tf.layers.Layer): string {
  const cls = layer.getClassName();
  const cfg = layer.getConfig();
  const weights = layer.weights;
  if (cls === 'Conv2D' || cls === 'Conv2DTranspose') {
    const [kh, kw, a, b] = weights[0]?.shape as number[];
    // Kernels: Conv2D [kh, kw, in, out]; Conv2DTranspose [kh, kw, out, in].
    const [cin, cout] = cls === 'Conv2D' ? [a, b] : [b, a];
    const [sh, sw] = cfg.strides as number[];
    const ph = torchPadding(cfg.padding as string, kh as number, sh as number, layer.name);
    const pw = torchPadding(cfg.padding as string, kw as number, sw as number, layer.name);
    const pad = ph || pw ? `, padding=(${ph}, ${pw})` : '';
    const name = cls === 'Conv2D' ? 'Conv2d' : 'ConvTranspose2d';
    return `${name}(${cin}, ${cout}, kernel_size=(${kh}, ${kw}), stride=(${sh}, ${sw})${pad}${cfg.useBias ? '' : ', bias=False'})`;
  }
  if (layer instanceof BatchNorm2d) {
    return `BatchNorm2d(${layer.numFeatures}, eps=${pyFloat(layer.eps)}, momentum=${pyFloat(layer.momentum)}, affine=True, track_running_stats=True)`;
  }
  // inplace=True is the tutorial's memory detail; printed so the text compares with the report.
  if (cls === 'ReLU') return 'ReLU(inplace=True)';
  if (cls === 'LeakyReLU') return `LeakyReLU(negative_slope=${pyFloat(cfg.alpha as number)}, inplace=True)`;
  if (cls === 'Activation') {
    const act = cfg.activation as string;
    if (act === 'tanh') return 'Tanh()';
    if (act === 'sigmoid') return 'Sigmoid()';
  }
  throw new Error(`torchRepr: no PyTorch form for layer ${layer.name} (${cls})`);
}

/** The model as PyTorch's print(model) shows the tutorial's `Generator`/`Discriminator`. */
export function torchRepr(model: tf.LayersModel, className: string): string {
  const lines = model.layers.map((l, i) => `    (${i}): ${torchLayerRepr(l)}`);
  return [`${className}(`, '  (main): Sequential(', ...lines, '  )', ')'].join('\n');
}

/** PyTorch's multi-line repr on one line, the way the report prints it. */
export function collapseRepr(repr: string): string {
  return repr
    .replace(/\(\n\s*/g, '(')
    .replace(/\n\s*\)/g, ')')
    .replace(/\n\s*/g, ' ');
}
