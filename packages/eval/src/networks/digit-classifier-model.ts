/**
 * The homework's digit classifier (SPEC.md, problem 2 grader), channels-last:
 *   conv1 3->6 k5, ReLU, pool1 2, conv2 6->16 k5, ReLU, pool2 2, flatten 256,
 *   fc1 256->128 ReLU, fc2 128->64 ReLU (the "features" the digit FID uses), fc3 64->10.
 * Inputs are normalised as the course's script does: (x/255 - 0.5) / 0.5.
 *
 * Initial weights follow PyTorch's default for Conv2d/Linear, U(-1/sqrt(fan_in), +1/sqrt(fan_in))
 * for kernels and biases, drawn from the project's seeded Rng so every engine starts alike.
 */
import * as tf from '@tensorflow/tfjs';
import { initTorchDefault, Rng, z, type PixelScaling } from '@dlcv/core';

const width = z.number().int().min(1);
export const digitClassifierConfigSchema = z.object({
  /** Image side (28 in the homework). */
  size: z.number().int().min(16),
  conv1: width,
  conv2: width,
  fc1: width,
  fc2: width,
  classes: width,
});
export type DigitClassifierConfig = z.infer<typeof digitClassifierConfigSchema>;

export const HOMEWORK_CLASSIFIER: DigitClassifierConfig = { size: 28, conv1: 6, conv2: 16, fc1: 128, fc2: 64, classes: 10 };

/** (x/255 - 0.5) / 0.5 per channel. */
export const DIGIT_SCALING: PixelScaling = { range: [0, 1], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

export function buildDigitClassifier(config: DigitClassifierConfig = HOMEWORK_CLASSIFIER, seed = 0): tf.Sequential {
  const m = tf.sequential({ name: 'digit_classifier' });
  m.add(tf.layers.conv2d({ inputShape: [config.size, config.size, 3], filters: config.conv1, kernelSize: 5, activation: 'relu', name: 'conv1' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  m.add(tf.layers.conv2d({ filters: config.conv2, kernelSize: 5, activation: 'relu', name: 'conv2' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }));
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(tf.layers.dense({ units: config.fc1, activation: 'relu', name: 'fc1' }));
  m.add(tf.layers.dense({ units: config.fc2, activation: 'relu', name: 'fc2' }));
  m.add(tf.layers.dense({ units: config.classes, name: 'fc3' }));
  initTorchDefault(m, new Rng(seed));
  return m;
}
