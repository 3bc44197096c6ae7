// The Sum and Mean gradients that registerGradients() puts in place of tfjs's: the values of the
// analytic gradient, bit for bit, and no host array of the input's size on the way.
import * as tf from '@tensorflow/tfjs';

import { registerGradients } from '../register-all';
import { rand } from '../test-utils/compare';

const SHAPE = [3, 4, 5];
const CASES: { axis: number | number[]; keepDims: boolean }[] = [
  { axis: 0, keepDims: false },
  { axis: -1, keepDims: true },
  { axis: [0, 2], keepDims: false },
  { axis: [0, 1, 2], keepDims: true },
  { axis: [1], keepDims: false },
];

/** The gradient of sum(reduce(x) * w): w broadcast back over the reduced axes, divided by their size for mean. */
function expected(axes: number[], w: Float32Array, mean: boolean): Float32Array {
  const reducedSize = axes.reduce((n, a) => n * SHAPE[a]!, 1);
  const kept = SHAPE.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float32Array(SHAPE[0]! * SHAPE[1]! * SHAPE[2]!);
  let k = 0;
  for (let i = 0; i < SHAPE[0]!; i++)
    for (let j = 0; j < SHAPE[1]!; j++)
      for (let l = 0; l < SHAPE[2]!; l++) {
        const at = [i, j, l].map((v, d) => (kept[d] === 1 ? 0 : v));
        const dy = w[(at[0]! * kept[1]! + at[1]!) * kept[2]! + at[2]!]!;
        out[k++] = mean ? Math.fround(dy / reducedSize) : dy;
      }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

describe.each([
  ['sum', tf.sum, false],
  ['mean', tf.mean, true],
] as const)('%s gradient', (name, op, mean) => {
  test.each(CASES)('axis $axis, keepDims $keepDims: dy broadcast back, the same bits as the analytic gradient', ({ axis, keepDims }) => {
    const axes = tf.util.parseAxisParam(axis, SHAPE);
    const x = tf.tensor(rand(SHAPE, 7).data, SHAPE);
    const outShape = keepDims ? SHAPE.map((d, i) => (axes.includes(i) ? 1 : d)) : SHAPE.filter((_, i) => !axes.includes(i));
    const w = rand(outShape, 11).data;
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(op(t, axis, keepDims), tf.tensor(w, outShape))))(x);
    expect(g.shape).toEqual(SHAPE);
    expect(Array.from(g.dataSync())).toEqual(Array.from(expected(axes, w, mean)));
    tf.dispose([x, g]);
  });

  test(`${name}'s gradient makes no host array of the input's size`, () => {
    const x = tf.tensor(rand(SHAPE, 3).data, SHAPE);
    const made = jest.spyOn(tf.engine(), 'makeTensor');
    try {
      tf.dispose(tf.grad((t: tf.Tensor) => op(t, [0, 1]))(x));
      const sizes = made.mock.calls.map(([, shape]) => tf.util.sizeFromShape(shape));
      expect(sizes.filter((n) => n === x.size)).toEqual([]);
    } finally {
      made.mockRestore();
      x.dispose();
    }
  });
});
