import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { conv2dBackpropFilterNhwc, useFastCpuKernels } from './cpu-kernels';

// Plain setBackend, not setupEngine: setupEngine installs the fast kernel, and the last test
// needs the stock one first to compare against.
beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The definition, element by element: dW[kh,kw,ci,co] = sum x[b, oh*s + kh - top, ow*s + kw - left, ci] * dy[b, oh, ow, co]. */
function reference(x: Float32Array, xShape: number[], dy: Float32Array, dyShape: number[], k: number, s: number, top: number, left: number): Float64Array {
  const [B, H, W, C] = xShape as [number, number, number, number];
  const [, OH, OW, O] = dyShape as [number, number, number, number];
  const out = new Float64Array(k * k * C * O);
  for (let kh = 0; kh < k; kh++)
    for (let kw = 0; kw < k; kw++)
      for (let ci = 0; ci < C; ci++)
        for (let co = 0; co < O; co++) {
          let sum = 0;
          for (let b = 0; b < B; b++)
            for (let oh = 0; oh < OH; oh++)
              for (let ow = 0; ow < OW; ow++) {
                const ih = oh * s + kh - top,
                  iw = ow * s + kw - left;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                sum += (x[((b * H + ih) * W + iw) * C + ci] as number) * (dy[((b * OH + oh) * OW + ow) * O + co] as number);
              }
          out[((kh * k + kw) * C + ci) * O + co] = sum;
        }
  return out;
}

describe('fast Conv2DBackpropFilter', () => {
  const rng = new Rng(21);
  const cases = [
    { name: '3x3 same, stride 1', x: [2, 5, 6, 3], k: 3, s: 1, pad: 'same' as const, out: [2, 5, 6, 4], top: 1, left: 1 },
    { name: '2x2 valid, stride 2', x: [2, 6, 6, 3], k: 2, s: 2, pad: 'valid' as const, out: [2, 3, 3, 5], top: 0, left: 0 },
    { name: '3x3 valid, stride 3 (the bottleneck ConvTranspose at size 12)', x: [1, 3, 3, 4], k: 3, s: 3, pad: 'valid' as const, out: [1, 1, 1, 2], top: 0, left: 0 },
  ];
  for (const c of cases) {
    test(`${c.name}: matches the definition`, () => {
      const x = rng.normalArray(c.x.reduce((a, b) => a * b, 1));
      const dy = rng.normalArray(c.out.reduce((a, b) => a * b, 1));
      const got = conv2dBackpropFilterNhwc(x, c.x, dy, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: [c.k, c.k, c.x[3] as number, c.out[3] as number] });
      const want = reference(x, c.x, dy, c.out, c.k, c.s, c.top, c.left);
      expect(got.length).toBe(want.length);
      want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
    });
  }

  test('once installed, tf.grad of a convolution gives bit-identical filter gradients to the stock kernel', () => {
    const x = tf.tensor4d(rng.normalArray(2 * 7 * 7 * 3), [2, 7, 7, 3]);
    const f = tf.tensor4d(rng.normalArray(3 * 3 * 3 * 4), [3, 3, 3, 4]);
    const g = tf.tensor4d(rng.normalArray(2 * 4 * 4 * 4), [2, 4, 4, 4]);
    const gradF = () =>
      tf
        .grad((filter) =>
          tf
            .conv2d(x, filter as tf.Tensor4D, 2, 'same')
            .mul(g)
            .sum(),
        )(f)
        .dataSync()
        .slice();
    const stock = gradF();
    useFastCpuKernels();
    useFastCpuKernels(); // idempotent
    const fast = gradF();
    expect(Buffer.from(fast.buffer).equals(Buffer.from(stock.buffer))).toBe(true);
  });
});
