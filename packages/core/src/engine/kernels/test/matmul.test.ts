// Matrix products on every engine against the tfjs cpu backend.
import * as tf from '@tensorflow/tfjs';

import { rand } from '../test-utils/compare';
import { describeEachEngine } from '../test-utils/engines';

describeEachEngine('matmul', (engine) => {
  test('dense shapes, transposes, batch, broadcast', () => {
    engine.check('mm', [rand([64, 300], 1), rand([300, 50], 2)], (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D));
    engine.check('mm tA', [rand([30, 16], 1), rand([30, 20], 2)], (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, true, false));
    engine.check('mm tB', [rand([16, 30], 1), rand([20, 30], 2)], (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true));
    engine.check('mm tA tB', [rand([30, 16], 1), rand([20, 30], 2)], (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, true, true));
    engine.check('mm k = 0 (all zeros)', [rand([3, 0], 1), rand([0, 4], 2)], (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), { grad: false });
    engine.check('bmm', [rand([3, 4, 5], 1), rand([3, 5, 6], 2)], (a, b) => tf.matMul(a, b));
    engine.check('bmm broadcast', [rand([3, 4, 5], 1), rand([1, 5, 6], 2)], (a, b) => tf.matMul(a, b), { grad: false });
  });
  test('fused matmul with bias and activations (dense layers)', () => {
    for (const activation of ['relu', 'linear', 'sigmoid'] as const) {
      engine.check(`fmm ${activation}`, [rand([32, 100], 1), rand([100, 50], 2), rand([50], 3)], (a, b, c) =>
        tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: c, activation }),
      );
    }
  });
});
