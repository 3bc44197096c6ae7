// The ONNX converters this package's layers register (beside each class) against the layers
// themselves: ONNX Runtime's output of the exported graph vs tfjs's, as core's converter tests do.
import * as tf from '@tensorflow/tfjs';
import { Gelu, onnxRelativeError, Rng, setupEngine, supportedLayers } from '@dlcv/core';
import { ContextMask } from './context-mask';
import { Film } from './film';
import { GroupNorm } from './group-norm';
import { ScaledAdd } from './scaled-add';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

/** Every weight from N(0, 0.5) of a seeded Rng, so gamma/beta and biases are not the trivial 1/0. */
function seededWeights(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  model.setWeights(
    model.weights.map((w) =>
      tf.tensor(
        rng.normalArray(
          w.shape.reduce((a: number, b) => a * (b as number), 1),
          0.5,
        ),
        w.shape as number[],
      ),
    ),
  );
}

function normalInput(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1)), shape);
}

test('importing the layers registers their converters', () => {
  expect(supportedLayers()).toEqual(expect.arrayContaining(['ContextMask', 'Film', 'GroupNorm', 'ScaledAdd']));
});

test('the U-Net layers: GroupNorm, ContextMask, Film, ScaledAdd, with Gelu, Conv2DTranspose k=s, AveragePooling2D', async () => {
  const x = tf.input({ shape: [8, 8, 3], name: 'x' });
  const t = tf.input({ shape: [1], name: 't' });
  const c = tf.input({ shape: [10], name: 'c' });
  const mask = tf.input({ shape: [1], name: 'context_mask' });
  const h = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(x) as tf.SymbolicTensor;
  const gn = new GroupNorm({ groups: 4 }).apply(h) as tf.SymbolicTensor;
  const cm = new ContextMask({}).apply([c, mask]) as tf.SymbolicTensor;
  const scale = new Gelu().apply(tf.layers.dense({ units: 8 }).apply(cm)) as tf.SymbolicTensor;
  const shift = tf.layers.dense({ units: 8, activation: 'gelu' }).apply(t) as tf.SymbolicTensor;
  const f = new Film({}).apply([gn, scale, shift]) as tf.SymbolicTensor;
  const sum = new ScaledAdd({ scale: 1 / 1.414 }).apply([f, h]) as tf.SymbolicTensor;
  const vec = tf.layers.averagePooling2d({ poolSize: 4 }).apply(tf.layers.maxPooling2d({ poolSize: 2 }).apply(sum)) as tf.SymbolicTensor;
  const up = tf.layers.conv2dTranspose({ filters: 4, kernelSize: 4, strides: 4, padding: 'valid' }).apply(vec) as tf.SymbolicTensor;
  const out = tf.layers.conv2dTranspose({ filters: 3, kernelSize: 2, strides: 2, padding: 'valid' }).apply(up) as tf.SymbolicTensor;
  const m = tf.model({ inputs: [x, t, c, mask], outputs: out });
  seededWeights(m, 14);
  const onehot = tf.oneHot(tf.tensor1d([1, 9], 'int32'), 10).toFloat();
  const inputs = [normalInput([2, 8, 8, 3], 15), tf.tensor2d([[0.25], [0.9]]), onehot, tf.tensor2d([[0], [1]])];
  expect(await onnxRelativeError(m, inputs)).toBeLessThan(1e-4);
});

test('GroupNorm on a [N, C] input and ScaledAdd on vectors keep the non-image layout', async () => {
  const v = tf.input({ shape: [6] });
  const w = tf.input({ shape: [6] });
  const gn = new GroupNorm({ groups: 3, epsilon: 1e-3 }).apply(tf.layers.dense({ units: 6 }).apply(v)) as tf.SymbolicTensor;
  const out = new ScaledAdd({ scale: 0.5 }).apply([gn, w]) as tf.SymbolicTensor;
  const m = tf.model({ inputs: [v, w], outputs: out });
  seededWeights(m, 16);
  expect(await onnxRelativeError(m, [normalInput([3, 6], 17), normalInput([3, 6], 18)])).toBeLessThan(1e-4);
});
