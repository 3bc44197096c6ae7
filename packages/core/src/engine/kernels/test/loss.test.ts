// The fused binary cross-entropy on every engine: against the tfjs cpu backend, and bit for bit
// against its tfjs composition on the same engine (the kernels run that composition's device ops).
import * as tf from '@tensorflow/tfjs';

import { binaryCrossEntropyWithLogits, binaryCrossEntropyWithLogitsComposition } from '../../native/ops';
import { BCE_WITH_LOGITS, BCE_WITH_LOGITS_GRAD } from '../fused/names';
import { rand } from '../test-utils/compare';
import { describeEachEngine } from '../test-utils/engines';

/** Logits with saturated values (|x| up to 40) and exact zeros (where Abs's gradient is tfjs's -1). */
function logits(shape: number[], seed: number): Float32Array {
  const data = rand(shape, seed, -8, 8).data;
  data.forEach((v, i) => (data[i] = i % 7 === 0 ? 0 : i % 5 === 0 ? 5 * v : v));
  return data;
}

/** The loss and d(3 * loss)/dx on the active backend, read back, and the kernels that ran. */
async function lossAndGrad(f: typeof binaryCrossEntropyWithLogits, data: Float32Array, shape: number[], target: 0 | 1) {
  const x = tf.tensor(data, shape);
  const run = () => tf.valueAndGrad((t: tf.Tensor) => tf.mul(f(t, target), 3) as tf.Scalar)(x);
  let values: Float32Array[] = [];
  const profile = await tf.profile(() => {
    const { value, grad } = run();
    values = [value, grad].map((t) => t.dataSync() as Float32Array);
    tf.dispose([value, grad]);
  });
  x.dispose();
  return { loss: values[0]!, grad: values[1]!, kernels: profile.kernelNames };
}

const SHAPES = [[9], [4, 6], [1], [128]];

describeEachEngine('binary cross-entropy with logits', (engine) => {
  test('one fused kernel forward and one backward, the same bits as the tfjs composition', async () => {
    tf.setBackend(engine.backend);
    for (const target of [0, 1] as const) {
      for (const [k, shape] of SHAPES.entries()) {
        const data = logits(shape, 10 + k);
        const fused = await lossAndGrad(binaryCrossEntropyWithLogits, data, shape, target);
        const composed = await lossAndGrad(binaryCrossEntropyWithLogitsComposition, data, shape, target);
        expect(fused.kernels.filter((n) => n === BCE_WITH_LOGITS || n === BCE_WITH_LOGITS_GRAD)).toEqual([BCE_WITH_LOGITS, BCE_WITH_LOGITS_GRAD]);
        expect(composed.kernels).not.toContain(BCE_WITH_LOGITS);
        expect(fused.kernels.length).toBeLessThan(composed.kernels.length);
        expect(Array.from(fused.loss)).toEqual(Array.from(composed.loss));
        expect(Array.from(fused.grad)).toEqual(Array.from(composed.grad));
      }
    }
  });

  test('against the cpu backend (values and gradients), leaving no tensor behind', () => {
    for (const target of [0, 1] as const) {
      for (const [k, shape] of SHAPES.entries()) {
        const x = { shape, data: logits(shape, 20 + k) };
        engine.check(`bce target ${target} [${shape.join(', ')}]`, [x], (t) => binaryCrossEntropyWithLogits(t, target));
      }
    }
  });

  test('a target other than 0 or 1 is refused', () => {
    tf.setBackend(engine.backend);
    const x = tf.zeros([3]);
    expect(() => binaryCrossEntropyWithLogits(x, 0.5 as never)).toThrow(/target must be 0 or 1, got 0.5/);
    x.dispose();
  });
});
