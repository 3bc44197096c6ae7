/**
 * The report's DANN networks (DLCV HW2 report, problem 3), grayscale input:
 *   FeatureExtractor: Conv 1->32 k3 p1, BN, ReLU, Dropout2d 0.5, MaxPool 2,
 *                     Conv 32->64 k3 p1, BN, ReLU, Dropout2d 0.5, MaxPool 2,
 *                     Flatten (3136), Linear 3136->1024, BN1d, ReLU
 *   LabelPredictor:   Linear 1024->50, BN1d, ReLU, Linear 50->10
 *   DomainClassifier: Linear 1024->50, BN1d, ReLU, Linear 50->1
 * Widths are configurable so tests can run a tiny copy of the same architecture.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchNorm2d, z, type Rng } from '@dlcv/core';
import {
  applyBatchNorm,
  applyConv2d,
  applyLinear,
  batchNorm,
  BN_EPS,
  conv2d,
  dropout2dMask,
  linear,
  type BatchMoments,
  type BatchNorm,
  type Conv2d,
  type Linear,
  type ParamStore,
} from './nn';

const positiveInt = z.number().int().min(1);

export const dannNetConfigSchema = z.object({
  /** Input height = width; must be divisible by 4 (two 2x2 poolings). The homework's digits are 28. */
  imageSize: positiveInt.refine((v) => v >= 4 && v % 4 === 0, 'must be a positive multiple of 4'),
  /** 1: the report turns every domain into grayscale. */
  inChannels: positiveInt,
  conv1: positiveInt,
  conv2: positiveInt,
  /** Feature width (the report's 1024), also what t-SNE embeds. */
  features: positiveInt,
  /** Hidden width of both heads (the report's 50). */
  hidden: positiveInt,
  /** Dropout2d probability after each conv block (the report's 0.5). */
  dropout: z.number().min(0).lt(1),
  classes: positiveInt,
});
export type DannNetConfig = z.infer<typeof dannNetConfigSchema>;

/**
 * The report's ReLU then 2x2 max pooling, computed as pooling then ReLU: max pooling commutes with
 * any non-decreasing function, and the gradient reaches the same input pixel either way (a
 * window's first maximum; zero where it is <= 0), so the result is the same on a quarter of the
 * pixels (measured: the activation and its gradient were 15% of a DANN training step).
 */
export function poolThenRelu(x: tf.Tensor4D): tf.Tensor4D {
  return tf.relu(tf.maxPool(x, 2, 2, 'valid'));
}

export const REPORT_NET: DannNetConfig = { imageSize: 28, inChannels: 1, conv1: 32, conv2: 64, features: 1024, hidden: 50, dropout: 0.5, classes: 10 };

export interface ForwardOptions {
  training: boolean;
  /** Dropout masks come from here (training only). */
  rng?: Rng;
  /** Training forwards push their BatchNorm batch moments here. */
  moments?: BatchMoments[];
}

// tfjs variable names are global to the engine: each network gets its own prefix.
let instances = 0;

export class DannNet {
  readonly config: DannNetConfig;
  private readonly extractorStore: ParamStore = { trainable: [], buffers: [] };
  private readonly labelStore: ParamStore = { trainable: [], buffers: [] };
  private readonly domainStore: ParamStore = { trainable: [], buffers: [] };
  private readonly fe: { conv1: Conv2d; bn1: BatchNorm; conv2: Conv2d; bn2: BatchNorm; fc: Linear; bn3: BatchNorm };
  private readonly lp: { fc1: Linear; bn: BatchNorm; fc2: Linear };
  private readonly dc: { fc1: Linear; bn: BatchNorm; fc2: Linear };

  /** `rng` draws the initial weights; without one they are zeros, for loading a checkpoint into. */
  constructor(config: DannNetConfig, rng?: Rng) {
    if (!Number.isInteger(config.imageSize) || config.imageSize < 4 || config.imageSize % 4 !== 0) {
      throw new Error(`DannNet: imageSize must be a positive multiple of 4, got ${config.imageSize}`);
    }
    this.config = config;
    const p = `dann${instances++}`;
    const flat = (config.imageSize / 4) ** 2 * config.conv2;
    const es = this.extractorStore,
      ls = this.labelStore,
      ds = this.domainStore;
    // Creation order fixes the draws from rng and the checkpoint order: keep it.
    this.fe = {
      conv1: conv2d(rng, es, `${p}/fe.conv1`, config.inChannels, config.conv1),
      bn1: batchNorm(es, `${p}/fe.bn1`, config.conv1),
      conv2: conv2d(rng, es, `${p}/fe.conv2`, config.conv1, config.conv2),
      bn2: batchNorm(es, `${p}/fe.bn2`, config.conv2),
      fc: linear(rng, es, `${p}/fe.fc`, flat, config.features),
      bn3: batchNorm(es, `${p}/fe.bn3`, config.features),
    };
    this.lp = {
      fc1: linear(rng, ls, `${p}/lp.fc1`, config.features, config.hidden),
      bn: batchNorm(ls, `${p}/lp.bn`, config.hidden),
      fc2: linear(rng, ls, `${p}/lp.fc2`, config.hidden, config.classes),
    };
    this.dc = {
      fc1: linear(rng, ds, `${p}/dc.fc1`, config.features, config.hidden),
      bn: batchNorm(ds, `${p}/dc.bn`, config.hidden),
      fc2: linear(rng, ds, `${p}/dc.fc2`, config.hidden, 1),
    };
  }

  /** [n, size, size, inChannels] -> [n, features] */
  features(x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor2D {
    const { training, moments } = opts;
    const { conv1, bn1, conv2, bn2, fc, bn3 } = this.fe;
    const block = (h: tf.Tensor4D, conv: Conv2d, bn: BatchNorm, channels: number) => {
      const y = poolThenRelu(applyBatchNorm(bn, applyConv2d(conv, h), training, moments));
      if (!training || this.config.dropout === 0) return y;
      if (!opts.rng) throw new Error('DannNet: a training forward needs an rng for its dropout masks');
      // Dropout2d after the pooling, not before as in the report: a per-(sample, channel) factor
      // >= 0 commutes with max pooling, so the result is the same on a quarter of the pixels.
      return tf.mul(y, dropout2dMask(opts.rng, y.shape[0], channels, this.config.dropout)) as tf.Tensor4D;
    };
    const h = block(block(x, conv1, bn1, this.config.conv1), conv2, bn2, this.config.conv2);
    const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
    return tf.relu(applyBatchNorm(bn3, applyLinear(fc, flat), training, moments));
  }

  /** Class logits [n, classes]. */
  classify(f: tf.Tensor2D, opts: ForwardOptions): tf.Tensor2D {
    const { fc1, bn, fc2 } = this.lp;
    return applyLinear(fc2, tf.relu(applyBatchNorm(bn, applyLinear(fc1, f), opts.training, opts.moments)));
  }

  /** Domain logit [n, 1] (source 0, target 1). Feed it features through the gradient reversal. */
  domain(f: tf.Tensor2D, opts: ForwardOptions): tf.Tensor2D {
    const { fc1, bn, fc2 } = this.dc;
    return applyLinear(fc2, tf.relu(applyBatchNorm(bn, applyLinear(fc1, f), opts.training, opts.moments)));
  }

  /** Trainable variables of the parts a mode trains (the domain classifier only in dann mode). */
  trainable(withDomain: boolean): tf.Variable[] {
    return [...this.extractorStore.trainable, ...this.labelStore.trainable, ...(withDomain ? this.domainStore.trainable : [])];
  }

  /** Every tensor a checkpoint holds, in a fixed order: weights then running statistics. */
  allVariables(): tf.Variable[] {
    const stores = [this.extractorStore, this.labelStore, this.domainStore];
    return [...stores.flatMap((s) => s.trainable), ...stores.flatMap((s) => s.buffers)];
  }

  /** allVariables under names without this instance's prefix, so that two instances save alike. */
  namedVariables(): Record<string, tf.Variable> {
    return Object.fromEntries(this.allVariables().map((v) => [v.name.slice(v.name.indexOf('/') + 1), v]));
  }

  parameterCount(): number {
    return this.trainable(true).reduce((n, v) => n + v.size, 0);
  }

  /**
   * The inference path (evaluation mode: running statistics, no dropout) as a tfjs LayersModel
   * holding copies of the current weights: image [n, size, size, inChannels] -> class logits
   * [n, classes] (or the domain logit with head 'domain'). Layer names follow the PyTorch module
   * paths. This is what core's exportOnnx takes.
   */
  inferenceModel(head: 'label' | 'domain' = 'label'): tf.LayersModel {
    const { imageSize, inChannels } = this.config;
    const L = tf.layers;
    const conv = (c: Conv2d, name: string) =>
      L.conv2d({ filters: c.kernel.shape[3] as number, kernelSize: c.kernel.shape[0] as number, padding: 'same', name, weights: [c.kernel, c.bias] });
    const dense = (l: Linear, name: string) => L.dense({ units: l.weight.shape[1] as number, name, weights: [l.weight, l.bias] });
    const norm = (b: BatchNorm, name: string) => {
      const layer = new BatchNorm2d({ numFeatures: b.gamma.shape[0] as number, eps: BN_EPS, name });
      return { layer, weights: [b.gamma, b.beta, b.runningMean, b.runningVar] };
    };
    const x = tf.input({ shape: [imageSize, imageSize, inChannels], name: 'image' });
    const norms: { layer: BatchNorm2d; weights: tf.Variable[] }[] = [];
    const apply = (layer: tf.layers.Layer, h: tf.SymbolicTensor) => layer.apply(h) as tf.SymbolicTensor;
    const bn = (b: BatchNorm, name: string, h: tf.SymbolicTensor) => {
      const n = norm(b, name);
      norms.push(n);
      return apply(n.layer, h);
    };
    const { conv1, bn1, conv2, bn2, fc, bn3 } = this.fe;
    let h = apply(conv(conv1, 'feature_extractor.conv1'), x);
    h = apply(L.maxPooling2d({ poolSize: 2, name: 'feature_extractor.pool1' }), apply(L.reLU({ name: 'feature_extractor.relu1' }), bn(bn1, 'feature_extractor.bn1', h)));
    h = apply(conv(conv2, 'feature_extractor.conv2'), h);
    h = apply(L.maxPooling2d({ poolSize: 2, name: 'feature_extractor.pool2' }), apply(L.reLU({ name: 'feature_extractor.relu2' }), bn(bn2, 'feature_extractor.bn2', h)));
    h = apply(L.flatten({ name: 'feature_extractor.flatten' }), h);
    h = apply(L.reLU({ name: 'feature_extractor.relu3' }), bn(bn3, 'feature_extractor.bn3', apply(dense(fc, 'feature_extractor.fc'), h)));
    const { fc1, bn: hbn, fc2 } = head === 'label' ? this.lp : this.dc;
    const prefix = head === 'label' ? 'label_predictor' : 'domain_classifier';
    h = apply(L.reLU({ name: `${prefix}.relu` }), bn(hbn, `${prefix}.bn`, apply(dense(fc1, `${prefix}.fc1`), h)));
    const out = apply(dense(fc2, `${prefix}.fc2`), h);
    const model = tf.model({ inputs: x, outputs: out, name: `dann_${head}` });
    // BatchNorm2d creates its weights when built (above); copy gamma, beta and the running statistics in.
    for (const n of norms) n.layer.setWeights(n.weights);
    return model;
  }

  dispose(): void {
    tf.dispose(this.allVariables());
  }
}
