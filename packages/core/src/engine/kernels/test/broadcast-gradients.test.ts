// The Add, Sub, Multiply and RealDiv gradients without their no-op kernels
// (fused/broadcast-gradients.ts) on every engine: the same bits as tfjs's stock gradients on the
// same engine, for each way an input broadcasts; no Reshape or Cast kernel left where it would
// change nothing; a gradient passed on unchanged still a tensor of its own; and the stock
// gradients on the tfjs cpu backend and inside a recorded gradient.
import * as tf from '@tensorflow/tfjs';

import { setBackwardPass } from '../../../nn/backward-pass';
import type { WrappedBroadcastGradient } from '../fused/broadcast-gradients';
import { registerGradients } from '../register-all';
import { rand, runOn, withGradients, type Spec } from '../test-utils/compare';
import { describeEachEngine } from '../test-utils/engines';

const OPS = { Add: tf.add, Sub: tf.sub, Multiply: tf.mul, RealDiv: tf.div } as const;
type OpName = keyof typeof OPS;

/** Runs `fn` with tfjs's stock gradients for the four ops registered, then puts core's back. */
function withStockGradients<T>(fn: () => T): T {
  const wrapped = (Object.keys(OPS) as OpName[]).map((name) => tf.getGradient(name) as WrappedBroadcastGradient);
  for (const w of wrapped) {
    expect(w.__dlcvStock).toBeDefined();
    tf.registerGradient(w.__dlcvStock!);
  }
  try {
    return fn();
  } finally {
    for (const w of wrapped) tf.registerGradient(w);
  }
}

const bits = (xs: Float32Array[]) => xs.map((x) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length)));

/** The kernels `fn` runs, by name, in order. */
async function kernelsOf(fn: () => tf.TensorContainer): Promise<string[]> {
  const { kernels } = await tf.profile(fn);
  return kernels.map((k) => k.name);
}

// a's shape and b's: the output's shape, a channel bias (lower rank), a kept-rank broadcast (the
// U-Net's FiLM terms), a lower rank with a broadcast axis inside it (summed, then reshaped) and
// scalars.
const SHAPES: { name: string; a: number[]; b: number[] }[] = [
  { name: 'same shapes', a: [2, 3, 4, 5], b: [2, 3, 4, 5] },
  { name: 'a channel vector', a: [2, 3, 4, 5], b: [5] },
  { name: 'a [1, 1, 1, C] bias', a: [2, 3, 4, 5], b: [1, 1, 1, 5] },
  { name: 'per sample and channel', a: [2, 1, 1, 5], b: [2, 3, 4, 5] },
  { name: 'a lower rank with an inner broadcast', a: [3, 1, 5], b: [2, 3, 4, 5] },
  { name: 'a scalar', a: [], b: [3, 4] },
  { name: 'two scalars', a: [], b: [] },
];

const CASES = (Object.keys(OPS) as OpName[]).flatMap((op) => SHAPES.map((s) => ({ op, ...s })));

describeEachEngine('broadcasting gradients without no-op kernels', (engine) => {
  // b away from zero, so that RealDiv's values stay moderate
  const inputsOf = (a: number[], b: number[]): Spec[] => [rand(a, 1), rand(b, 2, 0.5, 2)];

  test.each(CASES)('$op, $name: forward and both gradients bit for bit as the stock gradients', ({ op, a, b }) => {
    const fn = withGradients((x: tf.Tensor, y: tf.Tensor) => OPS[op](x, y));
    const ours = runOn(engine.backend, inputsOf(a, b), fn);
    const stock = withStockGradients(() => runOn(engine.backend, inputsOf(a, b), fn));
    expect(ours).toHaveLength(3);
    expect(bits(ours)).toEqual(bits(stock));
  });

  test('the gradient steps run no Reshape and no Cast of a float32 tensor', async () => {
    tf.setBackend(engine.backend);
    const x = tf.tensor(rand([2, 3, 4, 5], 3).data, [2, 3, 4, 5]);
    const film = tf.tensor(rand([2, 1, 1, 5], 4).data, [2, 1, 1, 5]);
    const bias = tf.tensor(rand([1, 1, 1, 5], 5).data, [1, 1, 1, 5]);
    const dy = tf.tensor(rand([2, 3, 4, 5], 6).data, [2, 3, 4, 5]);
    // dy given: no Sum and its gradient's Reshape in the step
    const step = () => tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.add(tf.sub(tf.mul(p, q), p), r))([x, film, bias], dy);
    const ours = await kernelsOf(step);
    expect(ours.filter((k) => k === 'Reshape' || k === 'Cast')).toEqual([]);
    // The stock gradients' reshapes and casts were the difference.
    const stock = await withStockGradients(() => kernelsOf(step));
    expect(stock.filter((k) => k !== 'Reshape' && k !== 'Cast')).toEqual(ours);
    tf.dispose([x, film, bias, dy]);
  });

  test.each(['dlcv', 'tfjs'] as const)('an input used twice: its passed-on gradients are summed, nothing is left behind (%s backward pass)', (pass) => {
    tf.setBackend(engine.backend);
    setBackwardPass(pass);
    const x = tf.tensor(rand([3, 4], 6).data, [3, 4]);
    const w = tf.tensor(rand([3, 4], 7).data, [3, 4]);
    const before = tf.memory().numTensors;
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.add(t, t), t), w)))(x);
    // d/dt of (3t) w is 3w, summed as w + w, then + w
    const wv = w.dataSync();
    const expected = Array.from(wv, (v) => Math.fround(Math.fround(v + v) + v));
    expect(Array.from(g.dataSync())).toEqual(expected);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
    setBackwardPass('dlcv');
  });

  test('inside a recorded gradient (a second derivative) the values are the stock ones', () => {
    tf.setBackend(engine.backend);
    const second = () => {
      const x = tf.tensor(rand([4], 8).data, [4]);
      const g2 = tf.grad((t: tf.Tensor) => tf.sum(tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.add(u, tf.mul(u, u)), u)))(t)))(x);
      return Array.from(g2.dataSync());
    };
    // d2/du2 of u^2 + u^3 is 2 + 6u
    const ours = tf.tidy(second);
    expect(ours).toEqual(tf.tidy(() => withStockGradients(second)));
    const x = rand([4], 8).data;
    ours.forEach((v, i) => expect(v).toBeCloseTo(2 + 6 * x[i]!, 4));
  });
});

describe('broadcasting gradients on the tfjs cpu backend', () => {
  test('the stock gradients run there: their Reshapes are still in the step', async () => {
    await tf.setBackend('cpu');
    registerGradients();
    const x = tf.tensor(rand([2, 3], 9).data, [2, 3]);
    const y = tf.tensor(rand([2, 3], 10).data, [2, 3]);
    const kernels = await kernelsOf(() => tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.add(p, q)))([x, y]));
    expect(kernels.filter((k) => k === 'Reshape').length).toBeGreaterThanOrEqual(2);
    tf.dispose([x, y]);
  });
});
