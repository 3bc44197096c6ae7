// tf.fused.matMul and tf.fused.conv2d as single kernels (fused/direct-fused-ops.ts) on every
// engine: the same bits as tfjs's own versions on the same engine, forward and every gradient;
// no Reshape or custom-op kernel; an input's gradient computed only when it is asked for; and
// tfjs's own versions wherever the direct ones do not apply. (matmul.test.ts and conv.test.ts
// compare the same calls with the tfjs cpu backend.)
import * as tf from '@tensorflow/tfjs';

import { fusedOpsRunDirect, useDirectFusedOps } from '../fused/direct-fused-ops';
import { rand, relErr, runOn, withGradients, type Spec } from '../test-utils/compare';
import { describeEachEngine } from '../test-utils/engines';

type Originals = { matMul: typeof tf.fused.matMul; conv2d: typeof tf.fused.conv2d };
const tfjsFused = () => (tf.fused as unknown as { __dlcvDirect?: Originals }).__dlcvDirect;

/** The forward and the gradients of sum(y * w) with respect to every input, on `backend`. */
const forwardAndGrads = (backend: string, inputs: Spec[], fn: (...xs: tf.Tensor[]) => tf.Tensor) => runOn(backend, inputs, withGradients(fn));

/** The kernels `fn` runs, by name, in order. */
async function kernelsOf(fn: () => tf.TensorContainer): Promise<string[]> {
  const { kernels } = await tf.profile(fn);
  return kernels.map((k) => k.name);
}

const bits = (xs: Float32Array[]) => xs.map((x) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length)));

/** The forward and every gradient of `direct` and of `tfjs` on `backend`: the same bits. */
function expectSameBits(backend: string, inputs: Spec[], direct: (...xs: tf.Tensor[]) => tf.Tensor, tfjs: (...xs: tf.Tensor[]) => tf.Tensor): void {
  const ours = forwardAndGrads(backend, inputs, direct);
  expect(ours).toHaveLength(inputs.length + 1);
  expect(bits(ours)).toEqual(bits(forwardAndGrads(backend, inputs, tfjs)));
}

const MATMULS = [
  { name: 'linear with bias', a: [6, 5], b: [5, 4], transposeA: false, transposeB: false, bias: true, activation: 'linear' as const },
  { name: 'relu with bias', a: [6, 5], b: [5, 4], transposeA: false, transposeB: false, bias: true, activation: 'relu' as const },
  { name: 'transposed a, no bias', a: [5, 6], b: [5, 4], transposeA: true, transposeB: false, bias: false, activation: 'linear' as const },
  { name: 'transposed b', a: [6, 5], b: [4, 5], transposeA: false, transposeB: true, bias: true, activation: 'linear' as const },
  { name: 'both transposed, relu', a: [5, 6], b: [4, 5], transposeA: true, transposeB: true, bias: true, activation: 'relu' as const },
];

const CONVS = [
  { name: '3x3 same with bias', x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: 1, pad: 'same' as const, bias: true, activation: 'linear' as const },
  { name: '4x4 stride 2 valid, relu', x: [2, 9, 9, 3], f: [4, 4, 3, 5], strides: 2, pad: 'valid' as const, bias: true, activation: 'relu' as const },
  { name: 'stride 2 same, no bias', x: [1, 8, 8, 2], f: [3, 3, 2, 3], strides: 2, pad: 'same' as const, bias: false, activation: 'linear' as const },
];

describeEachEngine('tf.fused ops as single kernels', (engine) => {
  test('they are in place on this engine', () => {
    tf.setBackend(engine.backend);
    expect(tfjsFused()).toBeDefined();
    expect(fusedOpsRunDirect()).toBe(true);
  });

  test.each(MATMULS)('matMul $name: forward and gradients bit for bit as tfjs fused matMul', ({ a, b, transposeA, transposeB, bias, activation }) => {
    const inputs = [rand(a, 1), rand(b, 2), ...(bias ? [rand([transposeB ? b[0]! : b[1]!], 3)] : [])];
    const call =
      (matMul: typeof tf.fused.matMul) =>
      (...xs: tf.Tensor[]) =>
        matMul({ a: xs[0] as tf.Tensor2D, b: xs[1] as tf.Tensor2D, transposeA, transposeB, bias: xs[2], activation });
    expectSameBits(engine.backend, inputs, call(tf.fused.matMul), call(tfjsFused()!.matMul));
  });

  test.each(CONVS)('conv2d $name: forward and gradients bit for bit as tfjs fused conv2d', ({ x, f, strides, pad, bias, activation }) => {
    const inputs = [rand(x, 4), rand(f, 5), ...(bias ? [rand([f[3]!], 6)] : [])];
    const call =
      (conv2d: typeof tf.fused.conv2d) =>
      (...xs: tf.Tensor[]) =>
        conv2d({ x: xs[0] as tf.Tensor4D, filter: xs[1] as tf.Tensor4D, strides, pad, bias: xs[2], activation });
    expectSameBits(engine.backend, inputs, call(tf.fused.conv2d), call(tfjsFused()!.conv2d));
  });

  // Inside a gradient tf.fused takes the unfused path for relu (tfjs's rule), so only a direct
  // kernel call tapes a fused relu: its gradient must pass dy where y > 0 only.
  test('a fused relu kernel recorded on the tape: the gradients of the unfused relu', () => {
    const relu =
      (kernel: string, inputs: (xs: tf.Tensor[]) => tf.NamedTensorMap, attrs: object) =>
      (...xs: tf.Tensor[]) =>
        tf.engine().runKernel(kernel, inputs(xs), { ...attrs, activation: 'relu' } as never) as tf.Tensor;
    const mm = relu('_FusedMatMul', ([a, b, bias]) => ({ a: a!, b: b!, bias: bias! }), { transposeA: false, transposeB: false });
    const mmInputs = [rand([6, 5], 20), rand([5, 4], 21), rand([4], 22)];
    const conv = relu('FusedConv2D', ([x, filter, bias]) => ({ x: x!, filter: filter!, bias: bias! }), { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 });
    const convInputs = [rand([2, 5, 5, 3], 23), rand([3, 3, 3, 4], 24), rand([4], 25)];
    const unfusedMm = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) => tf.relu(tf.add(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), bias));
    const unfusedConv = (x: tf.Tensor, f: tf.Tensor, bias: tf.Tensor) => tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'), bias));
    for (const [fused, unfused, inputs] of [
      [mm, unfusedMm, mmInputs],
      [conv, unfusedConv, convInputs],
    ] as const) {
      const got = forwardAndGrads(engine.backend, inputs, fused);
      const want = forwardAndGrads(engine.backend, inputs, unfused as (...xs: tf.Tensor[]) => tf.Tensor);
      expect(got).toHaveLength(4);
      got.forEach((g, i) => expect(relErr(g, want[i]!)).toBeLessThan(1e-6));
    }
  });

  test('a dense layer step runs one kernel forward and only the gradients asked for', async () => {
    tf.setBackend(engine.backend);
    const x = tf.tensor(rand([4, 3], 7).data, [4, 3]);
    const w = tf.variable(tf.tensor(rand([3, 2], 8).data, [3, 2]));
    const b = tf.variable(tf.tensor(rand([2], 9).data, [2]));
    const dense = () => tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b });
    try {
      expect(await kernelsOf(() => dense())).toEqual(['_FusedMatMul']);
      // the weights' gradients, not the input's: one matrix product and the bias's sum; the one
      // Reshape is the loss's (the Sum gradient's)
      const step = await kernelsOf(() => tf.variableGrads(() => tf.sum(dense()), [w, b]).grads);
      const count = (name: string) => step.filter((k) => k === name).length;
      expect([count('_FusedMatMul'), count('BatchMatMul'), count('Sum'), count('Reshape'), count('fusedMatMul__op')]).toEqual([1, 1, 2, 1, 0]);
    } finally {
      tf.dispose([x, w, b]);
    }
  });

  test("a network's first convolution computes no gradient for its input", async () => {
    tf.setBackend(engine.backend);
    const x = tf.tensor(rand([1, 6, 6, 2], 10).data, [1, 6, 6, 2]);
    const f = tf.variable(tf.tensor(rand([3, 3, 2, 3], 11).data, [3, 3, 2, 3]));
    const conv = () => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same' });
    try {
      expect(await kernelsOf(() => conv())).toEqual(['FusedConv2D']);
      const step = await kernelsOf(() => tf.variableGrads(() => tf.sum(conv()), [f]).grads);
      expect(step).toContain('Conv2DBackpropFilter');
      expect(step).not.toContain('Conv2DBackpropInput');
    } finally {
      tf.dispose([x, f]);
    }
  });

  test('calls outside the direct form go to tfjs', async () => {
    tf.setBackend(engine.backend);
    const a3 = tf.tensor(rand([2, 3, 4], 12).data, [2, 3, 4]);
    const b3 = tf.tensor(rand([2, 4, 5], 13).data, [2, 4, 5]);
    const a = tf.tensor(rand([3, 4], 14).data, [3, 4]);
    const b = tf.tensor(rand([4, 5], 15).data, [4, 5]);
    const wideBias = tf.tensor(rand([3, 5], 16).data, [3, 5]);
    try {
      // a batch of matrices, a bias that is not one value per column, prelu: tfjs reshapes
      expect(await kernelsOf(() => tf.fused.matMul({ a: a3, b: b3 }))).toContain('Reshape');
      expect(await kernelsOf(() => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: wideBias }))).toContain('Reshape');
      expect(await kernelsOf(() => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, activation: 'prelu', preluActivationWeights: tf.scalar(0.1) }))).toContain(
        'Reshape',
      );
      // and tfjs's errors stay tfjs's
      expect(() => tf.fused.matMul({ a: a as tf.Tensor2D, b: a as tf.Tensor2D })).toThrow(/inner shapes \(4\) and \(3\)/);
    } finally {
      tf.dispose([a3, b3, a, b, wideBias]);
    }
  });
});

test("on the tfjs cpu backend tf.fused is tfjs's own", async () => {
  useDirectFusedOps(); // as an engine's load does
  await tf.setBackend('cpu');
  expect(fusedOpsRunDirect()).toBe(false);
  const a = tf.tensor(rand([3, 4], 17).data, [3, 4]) as tf.Tensor2D;
  const b = tf.tensor(rand([4, 5], 18).data, [4, 5]) as tf.Tensor2D;
  try {
    expect(await kernelsOf(() => tf.fused.matMul({ a, b }))).toEqual(['Reshape', 'Reshape', '_FusedMatMul', 'Reshape', 'fusedMatMul__op']);
  } finally {
    tf.dispose([a, b]);
  }
});
