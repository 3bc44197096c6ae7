// The fused losses on every engine: against the tfjs cpu backend, and bit for bit against their
// tfjs compositions on the same engine (the kernels run those compositions' device ops).
import * as tf from '@tensorflow/tfjs';

import { binaryCrossEntropyWithLogits, binaryCrossEntropyWithLogitsComposition, sigmoidCrossEntropy, softmaxCrossEntropy } from '../../native/ops';
import { BCE_WITH_LOGITS, BCE_WITH_LOGITS_GRAD, SIGMOID_CE, SIGMOID_CE_GRAD, SOFTMAX_CE, SOFTMAX_CE_GRAD } from '../fused/names';
import { rand, type Spec } from '../test-utils/compare';
import { describeEachEngine } from '../test-utils/engines';

/** Logits with saturated values (|x| up to 40) and exact zeros (where Abs's gradient is tfjs's -1). */
function logits(shape: number[], seed: number): Spec {
  const data = rand(shape, seed, -8, 8).data;
  data.forEach((v, i) => (data[i] = i % 7 === 0 ? 0 : i % 5 === 0 ? 5 * v : v));
  return { shape, data };
}

/** Labels of 0 and 1 ([n, 1], a domain label) or one-hot rows ([n, c], a class label). */
function labels(shape: number[], seed: number): Spec {
  const [n, c] = shape as [number, number];
  const data = new Float32Array(n * c);
  for (let i = 0; i < n; i++) data[i * c + (c === 1 ? 0 : (i * 7 + seed) % c)] = c === 1 ? (i + seed) % 2 : 1;
  return { shape, data };
}

type Loss = (x: tf.Tensor, z: tf.Tensor) => tf.Scalar;

/** The loss and d(3 * loss)/dlogits on the active backend, read back, and the kernels that ran. */
async function lossAndGrad(loss: Loss, x: Spec, z: Spec) {
  const [xt, zt] = [x, z].map((s) => tf.tensor(s.data, s.shape));
  let values: Float32Array[] = [];
  const profile = await tf.profile(() => {
    const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => tf.mul(loss(t, zt!), 3) as tf.Scalar)(xt!);
    values = [value, grad].map((t) => t.dataSync() as Float32Array);
    tf.dispose([value, grad]);
  });
  tf.dispose([xt!, zt!]);
  return { loss: values[0]!, grad: values[1]!, kernels: profile.kernelNames };
}

/** Shapes of a [n, 1] logit column (and one [4, 6] block); each loss adds a large batch. */
const SMALL_SHAPES = [
  [9, 1],
  [4, 6],
  [1, 1],
];

const LOSSES: { name: string; fused: Loss; composed: Loss; kernels: [string, string]; shapes: number[][] }[] = [
  ...([1, 0] as const).map((target) => ({
    name: `binaryCrossEntropyWithLogits, target ${target}`,
    fused: (x: tf.Tensor) => binaryCrossEntropyWithLogits(x, target),
    composed: (x: tf.Tensor) => binaryCrossEntropyWithLogitsComposition(x, target),
    kernels: [BCE_WITH_LOGITS, BCE_WITH_LOGITS_GRAD] as [string, string],
    shapes: [...SMALL_SHAPES, [128, 1]],
  })),
  {
    name: 'sigmoidCrossEntropy',
    fused: (x, z) => sigmoidCrossEntropy(z, x),
    composed: (x, z) => tf.losses.sigmoidCrossEntropy(z, x) as tf.Scalar,
    kernels: [SIGMOID_CE, SIGMOID_CE_GRAD],
    shapes: [...SMALL_SHAPES, [512, 1]],
  },
  {
    name: 'softmaxCrossEntropy',
    fused: (x, z) => softmaxCrossEntropy(z, x),
    composed: (x, z) => tf.losses.softmaxCrossEntropy(z, x) as tf.Scalar,
    kernels: [SOFTMAX_CE, SOFTMAX_CE_GRAD],
    shapes: [
      [9, 10],
      [4, 6],
      [1, 3],
      [256, 10],
    ],
  },
];

describeEachEngine('fused losses', (engine) => {
  for (const loss of LOSSES) {
    test(`${loss.name}: one fused kernel forward and one backward, the bits of the tfjs composition`, async () => {
      tf.setBackend(engine.backend);
      for (const [k, shape] of loss.shapes.entries()) {
        const [x, z] = [logits(shape, 10 + k), labels(shape, k)];
        const fused = await lossAndGrad(loss.fused, x, z);
        const composed = await lossAndGrad(loss.composed, x, z);
        expect(fused.kernels.filter((n) => loss.kernels.includes(n))).toEqual(loss.kernels);
        expect(composed.kernels.filter((n) => loss.kernels.includes(n))).toEqual([]);
        expect(fused.kernels.length).toBeLessThan(composed.kernels.length);
        expect(Array.from(fused.loss)).toEqual(Array.from(composed.loss));
        expect(Array.from(fused.grad)).toEqual(Array.from(composed.grad));
      }
    });

    test(`${loss.name}: against the cpu backend (values and gradients), leaving no tensor behind`, () => {
      for (const [k, shape] of loss.shapes.entries()) {
        // the labels are a constant of the loss (made inside it): no gradient is asked of them
        const z = labels(shape, k);
        engine.check(`${loss.name} [${shape.join(', ')}]`, [logits(shape, 20 + k)], (x) => loss.fused(x, tf.tensor(z.data, z.shape)));
      }
    });
  }

  test('bad arguments are refused, naming the problem', () => {
    tf.setBackend(engine.backend);
    tf.tidy(() => {
      expect(() => binaryCrossEntropyWithLogits(tf.zeros([3]), 0.5 as never)).toThrow(/target must be 0 or 1, got 0.5/);
      expect(() => sigmoidCrossEntropy(tf.zeros([3, 1]), tf.zeros([4, 1]))).toThrow(/labels \[3, 1\] and logits \[4, 1\] differ in shape/);
      expect(() => softmaxCrossEntropy(tf.zeros([3, 10]), tf.zeros([3, 9]))).toThrow(/labels \[3, 10\] and logits \[3, 9\] differ in shape/);
    });
  });
});
