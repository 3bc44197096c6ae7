// Pooling and its gradients on every engine against the tfjs cpu backend.
import * as tf from '@tensorflow/tfjs';

import { rand, runOn } from '../test-utils/compare';
import { describeEachEngine, expectNoFallbacks } from '../test-utils/engines';

describeEachEngine('pooling', (engine) => {
  test('maxPool 2x2 s2 (negative maxima too) and grads', () => {
    engine.check('maxpool', [rand([2, 8, 8, 5], 1, -3, -1)], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
    engine.check('maxpool mixed', [rand([2, 28, 28, 4], 2)], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
    engine.check('maxpool 3 s1 same', [rand([2, 7, 7, 3], 3)], (x) => tf.maxPool(x as tf.Tensor4D, 3, 1, 'same'));
    engine.check('maxpool 3 s2 same, 17 channels', [rand([2, 9, 9, 17], 4)], (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'));
  });
  test('maxPool grads where the windows tile the input: ties, odd sizes, padding, -Infinity', () => {
    // values on a 0.5 grid: many windows hold their maximum twice (the first one gets the gradient)
    const ties = (shape: number[], seed: number) => {
      const s = rand(shape, seed, -2, 2);
      return { shape, data: s.data.map((v) => Math.round(v * 2) / 2) };
    };
    engine.check('tiled 2x2 ties', [ties([2, 8, 8, 33], 5)], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
    engine.check('tiled 2x2 odd size (last row and column in no window)', [ties([2, 7, 9, 3], 6)], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
    engine.check('2x2 same on odd size (last window padded)', [ties([2, 7, 9, 3], 7)], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'same'));
    engine.check('tiled 3x3 s3 ties', [ties([1, 9, 12, 8], 8)], (x) => tf.maxPool(x as tf.Tensor4D, 3, 3, 'valid'));
    engine.check('tiled 2x1 rectangular', [ties([2, 6, 5, 4], 9)], (x) => tf.maxPool(x as tf.Tensor4D, [2, 1], [2, 1], 'valid'));
    const withInf = rand([1, 4, 4, 2], 10);
    for (const i of [0, 1, 2, 3, 8, 9, 10, 11]) withInf.data[i] = -Infinity; // the first window, both channels
    const grad = (backend: string) => runOn(backend, [withInf], (x) => tf.grad((v: tf.Tensor) => tf.sum(tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid')))(x!))[0]!;
    expect(Array.from(grad(engine.backend))).toEqual(Array.from(grad('cpu')));
  });
  test('avgPool 7 s7 and padded 3x3, grads', () => {
    engine.check('avgpool7', [rand([2, 7, 7, 6], 1)], (x) => tf.avgPool(x as tf.Tensor4D, 7, 7, 'valid'));
    engine.check('avgpool3 same', [rand([2, 6, 6, 3], 2)], (x) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'));
  });

  test('the poolings above ran on the engine (no fallbacks)', () => {
    expectNoFallbacks(engine, ['MaxPool', 'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad']);
  });
});
