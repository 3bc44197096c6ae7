/**
 * The strict grader's network: stronger than the homework's LeNet (digit-classifier-model.ts),
 * so that its score of a generator is limited by the generator, not by the grader. VGG-style,
 * channels-last, batch norm after every convolution:
 *   conv 3x3 c1, BN, ReLU, MaxPool 2                 28 -> 14
 *   [conv 3x3 c2, BN, ReLU] x 2, MaxPool 2          14 -> 7
 *   conv 3x3 c3, BN, ReLU, MaxPool 2 ('same')       7 -> 4
 *   flatten (4 x 4 x c3), fc features, ReLU ("features"), fc 10 ("logits")
 * The flattened head keeps where each stroke lies; a global average pool would throw that away
 * and leave the 3x3 convolutions to learn position from their receptive field alone.
 * Inputs as the homework's: (x/255 - 0.5) / 0.5, NHWC. No dropout: tfjs draws its masks from an
 * unseeded (or per-call identical) generator, and the augmentation already regularises.
 */
import * as tf from '@tensorflow/tfjs';
import { initTorchDefault, Rng, z } from '@dlcv/core';

const width = z.number().int().min(1);
export const strictClassifierConfigSchema = z.object({
  size: z.number().int().min(16),
  c1: width,
  c2: width,
  c3: width,
  features: width,
  classes: width,
});
export type StrictClassifierConfig = z.infer<typeof strictClassifierConfigSchema>;

/**
 * 32-64-128 channels, a 256-wide feature layer: about 30 MFLOP an image forward. A second
 * 32-channel convolution at full resolution would add half as much again; on the 2-core machine
 * training time decided.
 */
export const STRICT_CLASSIFIER: StrictClassifierConfig = { size: 28, c1: 32, c2: 64, c3: 128, features: 256, classes: 10 };

/** Name of the layer whose output the exported ONNX file gives as `features`. */
export const STRICT_FEATURES_LAYER = 'fc1';

export function buildStrictClassifier(config: StrictClassifierConfig = STRICT_CLASSIFIER, seed = 0): tf.Sequential {
  const m = tf.sequential({ name: 'strict_digit_classifier' });
  let first = true;
  const convBlock = (filters: number, name: string) => {
    m.add(tf.layers.conv2d({ ...(first ? { inputShape: [config.size, config.size, 3] } : {}), filters, kernelSize: 3, padding: 'same', useBias: false, name }));
    first = false;
    // PyTorch's BatchNorm2d defaults (momentum 0.1 = keras 0.9, eps 1e-5).
    m.add(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: `${name}_bn` }));
    m.add(tf.layers.reLU({ name: `${name}_relu` }));
  };
  convBlock(config.c1, 'conv1');
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  convBlock(config.c2, 'conv2a');
  convBlock(config.c2, 'conv2b');
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }));
  convBlock(config.c3, 'conv3');
  m.add(tf.layers.maxPooling2d({ poolSize: 2, padding: 'same', name: 'pool3' }));
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(tf.layers.dense({ units: config.features, activation: 'relu', name: STRICT_FEATURES_LAYER }));
  m.add(tf.layers.dense({ units: config.classes, name: 'fc2' }));
  initTorchDefault(m, new Rng(seed));
  return m;
}
