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
import { Rng, type PixelScaling } from '@dlcv/core';

export interface DigitClassifierConfig {
  /** Image side (28 in the homework). */
  size: number;
  conv1: number;
  conv2: number;
  fc1: number;
  fc2: number;
  classes: number;
}

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
  initTorchStyle(m, seed);
  return m;
}

/** PyTorch's default Conv2d/Linear initialisation from our Rng, layer by layer. */
export function initTorchStyle(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  const weights: tf.Tensor[] = [];
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const kernel = ws[0] as tf.Tensor;
    // Fan-in: every kernel axis but the last (out channels / units).
    const fanIn = kernel.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const bound = 1 / Math.sqrt(fanIn);
    for (const w of ws) weights.push(tf.tensor(rng.uniformArray(w.size, -bound, bound), w.shape));
  }
  model.setWeights(weights);
  tf.dispose(weights);
}
