// Elementwise kernels on every engine against the tfjs cpu backend: broadcasting binary ops,
// unary ops (small and large, for the parallel paths), comparisons and select.
import * as tf from '@tensorflow/tfjs';

import { rand } from '../test-utils/compare';
import { describeEachEngine, expectNoFallbacks } from '../test-utils/engines';

describeEachEngine('elementwise', (engine) => {
  const pairs: [number[], number[]][] = [
    [
      [2, 3, 4, 5],
      [2, 3, 4, 5],
    ],
    [[2, 3, 4, 5], [5]],
    [
      [2, 3, 4, 5],
      [2, 1, 1, 5],
    ],
    [[4, 5], []],
    [
      [3, 1],
      [1, 4],
    ],
    [
      [2, 3, 4],
      [3, 1],
    ],
    [
      [1, 1, 1, 5],
      [2, 3, 4, 5],
    ],
    [[70000], [70000]],
    [[300, 256], [256]],
  ];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, number?][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference],
    ['pow', tf.pow, 0.5],
  ];
  for (const [name, op, lo] of ops) {
    test(`${name} with broadcasting (forward + grads)`, () => {
      pairs.forEach(([sa, sb], i) => {
        engine.check(
          `${name} ${sa}x${sb}`,
          [rand(sa, 10 + i, lo ?? -1, 2), rand(sb, 20 + i, name === 'div' ? 0.5 : -1, 2)],
          op,
          // tfjs's own Maximum/Minimum/SquaredDifference/Pow gradients do not reduce broadcasts
          { grad: ['add', 'sub', 'mul', 'div'].includes(name) || sa.join() === sb.join() },
        );
      });
    });
  }
  test('prelu', () => engine.check('prelu', [rand([2, 4, 4, 3], 1), rand([3], 2, 0, 0.5)], (x, a) => tf.prelu(x, a)));
  const unary: [string, (x: tf.Tensor) => tf.Tensor, number?, number?][] = [
    ['relu', tf.relu],
    ['relu6', (x) => tf.relu6(tf.mul(x, 8))],
    ['leakyRelu', (x) => tf.leakyRelu(x, 0.2)],
    ['elu', tf.elu],
    ['sigmoid', tf.sigmoid],
    ['tanh', tf.tanh],
    ['exp', tf.exp],
    ['log', tf.log, 0.1, 3],
    ['neg', tf.neg],
    ['sqrt', tf.sqrt, 0.1, 3],
    ['rsqrt', tf.rsqrt, 0.1, 3],
    ['square', tf.square],
    ['abs', tf.abs],
    ['erf', tf.erf],
    ['reciprocal', tf.reciprocal, 0.2, 3],
    ['softplus', tf.softplus],
    ['selu', tf.selu],
    ['log1p', tf.log1p, 0, 2],
    ['expm1', tf.expm1],
    ['clipByValue', (x) => tf.clipByValue(x, -0.3, 0.4)],
    ['step', (x) => tf.step(x, 0.1)],
    ['sign', tf.sign],
  ];
  for (const [name, op, lo, hi] of unary) {
    test(`${name} (forward + grad)`, () => {
      engine.check(name, [rand([3, 5, 7, 11], 7, lo ?? -3, hi ?? 3)], op);
      engine.check(`${name} big`, [rand([40000], 8, lo ?? -3, hi ?? 3)], op);
    });
  }
  test('comparisons and select', () => {
    engine.check('where', [rand([4, 6], 1), rand([4, 6], 2)], (a, b) => tf.where(tf.greater(a, b), a, b), { grad: false });
    for (const cmp of [tf.greater, tf.greaterEqual, tf.less, tf.lessEqual, tf.equal, tf.notEqual]) {
      engine.check('cmp', [rand([4, 6], 1), rand([6], 2)], (a, b) => tf.cast(cmp(a, b), 'float32'), { grad: false });
    }
  });

  test('zerosLike writes every element (outputs start as NaN here)', () => {
    engine.check('zerosLike', [rand([64, 512], 3)], (x) => tf.zerosLike(x));
    engine.check('zerosLike small', [rand([3, 5], 4)], (x) => tf.zerosLike(x));
    expect(engine.kernelStats().get('ZerosLike')?.native).toBeGreaterThan(0);
    expectNoFallbacks(engine, ['ZerosLike']);
  });
});
