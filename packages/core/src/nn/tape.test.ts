import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '../engine/engine';
import { outsideTape } from './tape';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

describe('outsideTape', () => {
  test("a gradient through work done midway: that work's kernels are off the tape, a minimize inside it runs on its own tape, the outer gradient is the one written out", () => {
    const a = tf.variable(tf.scalar(3), true, 'tape-a');
    const b = tf.variable(tf.scalar(2), true, 'tape-b');
    const opt = tf.train.sgd(0.5);
    const before = tf.memory().numTensors;
    let innerLoss: tf.Scalar | undefined;
    let ranOutside = 0;
    const { value, grads } = tf.variableGrads(() => {
      const h = tf.mul(a, a); // 9, on the tape
      outsideTape(() => {
        // b's update: loss (b - h)^2 with h a constant here; grad 2 (b - 9) = -14, b = 2 + 7 = 9
        innerLoss = tf.keep(opt.minimize(() => tf.square(tf.sub(b, h)) as tf.Scalar, true, [b]) as tf.Scalar);
        const engine = tf.engine() as unknown as { state: { gradientDepth: number } };
        expect(engine.state.gradientDepth).toBe(0);
        ranOutside++;
      });
      // the loss goes through the updated b: d/da (a^2 * b) = 2 a b = 54
      return tf.mul(h, b) as tf.Scalar;
    }, [a]);
    expect(ranOutside).toBe(1);
    expect(innerLoss!.dataSync()[0]).toBe(49);
    expect(b.dataSync()[0]).toBe(9);
    expect(value.dataSync()[0]).toBe(81);
    expect(grads['tape-a']!.dataSync()[0]).toBe(54);
    tf.dispose([value, innerLoss!, ...Object.values(grads)]);
    // the tape's saved tensors and the inner update's intermediates are all freed
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  test('kernels run inside it are not recorded: a gradient through a tensor made there is refused', () => {
    const a = tf.variable(tf.scalar(3), true, 'tape-c');
    expect(() => tf.variableGrads(() => outsideTape(() => tf.mul(a, a)) as tf.Scalar, [a])).toThrow(
      /Cannot find a connection between any variable and the result of the loss function/,
    );
    // and the tape state is put back when fn throws
    expect(() =>
      tf.variableGrads(() => {
        expect(() =>
          outsideTape(() => {
            throw new Error('midway failure');
          }),
        ).toThrow('midway failure');
        return tf.mul(a, a) as tf.Scalar;
      }, [a]),
    ).not.toThrow();
    a.dispose();
  });

  test('outside any gradient it just runs fn', () => {
    expect(outsideTape(() => tf.add(1, 2).dataSync()[0])).toBe(3);
  });
});
