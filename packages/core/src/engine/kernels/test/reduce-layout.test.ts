// Reductions and layout kernels on every engine against the tfjs cpu backend.
import * as tf from '@tensorflow/tfjs';

import { rand } from '../test-utils/compare';
import { describeEachEngine } from '../test-utils/engines';

describeEachEngine('reductions and layout', (engine) => {
  const shape = [4, 5, 6, 7];
  const axesList: (number | number[])[] = [0, 1, 3, -1, [0, 1, 2], [1, 2], [0, 2], [1, 3], [0, 1, 2, 3]];
  for (const [name, op] of [
    ['sum', tf.sum],
    ['mean', tf.mean],
    ['max', tf.max],
    ['min', tf.min],
  ] as const) {
    test(`${name} over many axes (+ keepDims, grads)`, () => {
      for (const ax of axesList) {
        engine.check(`${name} ${ax}`, [rand(shape, 3)], (x) => op(x, ax));
        engine.check(`${name} ${ax} keep`, [rand(shape, 4)], (x) => op(x, ax, true));
      }
      // BN-like big column reduction
      engine.check(`${name} big`, [rand([64, 16, 16, 32], 5)], (x) => op(x, [0, 1, 2]));
      engine.check(`${name} big rows`, [rand([8, 20000], 5)], (x) => op(x, 1));
    });
  }
  test('prod, argMax, argMin', () => {
    engine.check('prod', [rand([3, 4, 5], 1, 0.5, 1.5)], (x) => tf.prod(x, 1), { grad: false });
    engine.check('argMax', [rand([3, 4, 5], 1)], (x) => tf.cast(tf.argMax(x, 1), 'float32'), { grad: false });
    engine.check('argMin', [rand([3, 4, 5], 1)], (x) => tf.cast(tf.argMin(x, -1), 'float32'), { grad: false });
  });
  test('transpose, tile, slice, concat', () => {
    engine.check('transpose', [rand([2, 3, 4, 5], 1)], (x) => tf.transpose(x, [0, 3, 1, 2]));
    engine.check('transpose2', [rand([6, 7], 1)], (x) => tf.transpose(x));
    engine.check('tile', [rand([1, 1, 1, 5], 1)], (x) => tf.tile(x, [2, 3, 4, 1]));
    engine.check('tile2', [rand([2, 3], 1)], (x) => tf.tile(x, [3, 2]));
    engine.check('slice', [rand([2, 6, 6, 8], 1)], (x) => tf.slice(x, [0, 1, 2, 3], [2, 3, 3, 4]));
    engine.check('slice of the last axis', [rand([2, 3, 3, 8], 1)], (x) => tf.slice(x, [0, 0, 0, 5], [2, 3, 3, 3]));
    // Nothing cut: the values as they are, plus one, so that the result is not the input itself.
    engine.check('slice of every element', [rand([2, 3, 4], 1)], (x) => tf.add(tf.slice(x, [0, 0, 0], [2, 3, 4]), 1));
    engine.check('concat -1', [rand([2, 4, 4, 3], 1), rand([2, 4, 4, 5], 2)], (a, b) => tf.concat([a, b], -1));
    engine.check('concat 0', [rand([2, 4], 1), rand([3, 4], 2)], (a, b) => tf.concat([a, b], 0));
    engine.check('pad', [rand([2, 3, 4], 1)], (x) =>
      tf.pad(
        x,
        [
          [1, 0],
          [0, 2],
          [3, 1],
        ],
        0.5,
      ),
    );
    engine.check('slice grad (pad)', [rand([8, 6], 1)], (x) => tf.slice(x, [0, 0], [4, 6]));
    engine.check('split -1', [rand([2, 4, 4, 7], 1)], (x) => tf.split(x, [3, 4], -1)[1]!);
    engine.check('split 1 even', [rand([2, 6, 3], 1)], (x) => tf.split(x, 3, 1)[2]!);
  });
});
