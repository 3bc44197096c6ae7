// The device's random kernels against core's Rng in JavaScript: the same values, bit for bit,
// and the caller's Rng left where the JavaScript draws leave it.
import * as tf from '@tensorflow/tfjs';

import { Rng } from '../../../rng';
import { dropoutMask } from '../../native';
import { DROPOUT_MASK } from '../fused/names';
import { describeEachEngine } from '../test-utils/engines';

/** What dropoutMask draws, written out: rng.next() < p ? 0 : 1 / (1 - p), as float32. */
function referenceMask(rng: Rng, size: number, p: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.next() < p ? 0 : 1 / (1 - p);
  return out;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.slice().buffer));

describeEachEngine('random kernels', (engine) => {
  beforeAll(() => tf.setBackend(engine.backend));

  test('the engine has the dropout mask kernel', () => {
    expect(tf.getKernel(DROPOUT_MASK, engine.backend)).toBeDefined();
  });

  test.each([
    // [shape, p, seed, stream]: DANN's channel masks, odd sizes, p near 0 and 1, large seeds
    [[64, 1, 1, 32], 0.5, 0, 7],
    [[3, 5], 0.3, 12345, 54],
    [[1001], 0.05, 2 ** 40 + 3, 0x7fffffff],
    [[2, 2, 2, 7], 0.97, 9, 1],
    [[17], 0, 4, 2],
    [[0, 3], 0.5, 1, 1],
  ] as [number[], number, number, number][])('dropoutMask %j p %d: the Rng stream bit for bit', async (shape, p, seed, stream) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const rng = new Rng(seed, stream);
    rng.normal(); // a spare normal held: the mask's draws neither use nor drop it
    const expectedRng = new Rng(0);
    expectedRng.setState(rng.getState());
    const expected = referenceMask(expectedRng, size, p);

    const mask = dropoutMask(rng, shape, p);
    expect(mask.shape).toEqual(shape);
    expect(mask.dtype).toBe('float32');
    expect(bits((await mask.data()) as Float32Array)).toEqual(bits(expected));
    mask.dispose();
    // the caller's generator is where the JavaScript loop leaves it, spare normal included
    expect(rng.getState()).toEqual(expectedRng.getState());
    expect(rng.nextUint32()).toBe(expectedRng.nextUint32());
  });

  test('the comparison with p takes all 53 bits of each uniform', async () => {
    // p at the first uniform u and at the next multiple of 2^-53: only a draw equal to u in all
    // its bits (the second uint32's 26 too) is kept at the first and dropped at the second
    for (const seed of [3, 77, 1234]) {
      const u = new Rng(seed).next();
      const first = async (p: number) => (await dropoutMask(new Rng(seed), [4], p).data())[0];
      expect(await first(u)).toBe(Math.fround(1 / (1 - u)));
      expect(await first(u + 2 ** -53)).toBe(0);
    }
  });

  test('dropoutMask keeps p in [0, 1)', () => {
    expect(() => dropoutMask(new Rng(1), [2], 1)).toThrow(/p must be in \[0, 1\)/);
    expect(() => dropoutMask(new Rng(1), [2], -0.1)).toThrow(/p must be in \[0, 1\)/);
  });

  test('a bad Rng state is refused by the addon with a message', () => {
    const run = (state: number[]) => tf.engine().runKernel(DROPOUT_MASK, {}, { shape: [2], state, p: 0.5, value: 2 } as never);
    expect(() => run([1, 2, 3])).toThrow(/Rng state has 4 parts/);
    expect(() => run([1, 2, 3, 2 ** 32])).toThrow(/not a uint32/);
  });
});
