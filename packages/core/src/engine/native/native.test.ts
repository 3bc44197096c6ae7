// What only the native engine has: its start-up detail, oneDNN's choice of convolution
// implementations, the addon's op code tables, and the pool of output buffers (alloc.ts).
import * as fs from 'fs';

import * as tf from '@tensorflow/tfjs';

import { BINARY_OPS, COMPARE_OPS, REDUCE_OPS, UNARY_GRAD_OPS, UNARY_OPS } from '../kernels/device-ops';
import { rand, runOn } from '../kernels/test-utils/compare';
import { describeEngine, ENGINES } from '../kernels/test-utils/engines';
import { outputPoolStats } from './alloc';
import { loadNativeBackend, nativeAddon } from './index';

const NATIVE_ENGINE = ENGINES.find((e) => e.name === 'native')!;

describeEngine(NATIVE_ENGINE, 'native backend registration', () => {
  const loaded = loadNativeBackend();
  test('reports threads and detail', () => {
    expect(loaded.ok).toBe(true);
    if (loaded.ok) {
      expect(loaded.threads).toBeGreaterThanOrEqual(1);
      expect(loaded.detail).toMatch(/oneDNN/);
    }
  });

  test('the addon exports an op code for every op the kernels use, distinct within each family', () => {
    const codes = nativeAddon()!.opCodes();
    const families = { unary: UNARY_OPS, unaryGrad: UNARY_GRAD_OPS, binary: BINARY_OPS, compare: COMPARE_OPS, reduce: REDUCE_OPS };
    for (const [family, names] of Object.entries(families)) {
      const table = codes[family as keyof typeof codes];
      for (const name of names) expect(typeof table[name]).toBe('number');
      expect(new Set(Object.values(table)).size).toBe(Object.keys(table).length);
    }
  });
});

describeEngine(NATIVE_ENGINE, 'convolution implementations', (engine) => {
  test('3x3 stride-1 layers with 16+ channels run on Winograd where oneDNN has it, a 1-channel layer does not', () => {
    // oneDNN 2 has f32 Winograd kernels for AVX-512 CPUs alone; oneDNN 3.7.2 (Debian trixie's)
    // has none in its library. Elsewhere every layer stays direct.
    const dnnlMajor = Number(/oneDNN (\d+)\./.exec(nativeAddon()!.info().dnnl)![1]);
    const winograd = /\bavx512f\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8')) && dnnlMajor < 3;
    const convAndGrads = (xs: number[], ws: number[]) =>
      runOn(engine.backend, [rand(xs, 1), rand(ws, 2)], (x, w) => tf.grads((a, b) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')))([x!, w!]));
    convAndGrads([1, 9, 9, 16], [3, 3, 16, 24]);
    convAndGrads([1, 9, 9, 1], [3, 3, 1, 24]);
    const lines = nativeAddon()!.convImplementations();
    const of = (shape: string) => lines.filter((l) => l.includes(shape));
    const wide = of('1x9x9x16 k3x3x24 s1x1');
    expect(wide.map((l) => l.split(' ')[0]).sort()).toEqual(['backward_data', 'backward_weights', 'forward']);
    for (const l of wide) expect(/wino/.test(l)).toBe(winograd);
    const oneChannel = of('1x9x9x1 k3x3x24 s1x1');
    expect(oneChannel.length).toBeGreaterThan(0);
    for (const l of oneChannel) expect(l).not.toMatch(/wino/);
  });
});

describeEngine(NATIVE_ENGINE, 'output pool', (engine) => {
  // Tensors here have 64 x 512 = 32768 elements: above the pool's floor.
  const valuesOf = (t: tf.Tensor) => (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values;
  const input = (seed: number) => tf.tensor2d(rand([64, 512], seed).data, [64, 512]);
  beforeEach(() => tf.setBackend(engine.backend));

  test("a disposed output's buffer is the next same-size output's, and holds its new values", () => {
    const x = input(1);
    const y1 = tf.relu(x);
    const buffer = valuesOf(y1).buffer;
    const before = outputPoolStats().reused;
    y1.dispose();
    const y2 = tf.neg(x);
    expect(valuesOf(y2).buffer).toBe(buffer);
    expect(outputPoolStats().reused).toBe(before + 1);
    const xs = x.dataSync();
    const got = y2.dataSync();
    for (let i = 0; i < xs.length; i += 997) expect(got[i]).toBe(-xs[i]!);
    tf.dispose([x, y2]);
  });

  test("what dataSync returned survives its tensor's disposal and the buffer's reuse", async () => {
    const x = input(2);
    const y = tf.relu(x);
    const kept = y.dataSync();
    const keptAsync = await y.data();
    expect(kept.buffer).not.toBe(valuesOf(y).buffer);
    const copy = Float32Array.from(kept);
    y.dispose();
    const z = tf.neg(x); // reuses y's buffer
    expect(Array.from(kept)).toEqual(Array.from(copy));
    expect(Array.from(keptAsync as Float32Array)).toEqual(Array.from(copy));
    tf.dispose([x, z]);
  });

  test('a buffer is not reused while another tensor still holds a view of it', () => {
    const x = input(3);
    const y = tf.relu(x);
    const values = valuesOf(y);
    // a second data entry on a view of the same buffer, as a cpu kernel's contiguous slice makes
    const backend = tf.backend() as unknown as { makeTensorInfo(shape: number[], dtype: string, v: Float32Array): tf.TensorInfo };
    const info = backend.makeTensorInfo([1000], 'float32', values.subarray(0, 1000));
    const view = tf.engine().makeTensorFromTensorInfo(info);
    const expected = Array.from(values.subarray(0, 1000));
    y.dispose();
    const z = tf.neg(x);
    expect(valuesOf(z).buffer).not.toBe(values.buffer);
    expect(Array.from(view.dataSync())).toEqual(expected);
    const zBuffer = valuesOf(z).buffer;
    view.dispose(); // the last entry on y's buffer: it goes back to the pool
    z.dispose();
    const w1 = tf.neg(x);
    const w2 = tf.relu(x);
    const [b1, b2] = [valuesOf(w1).buffer, valuesOf(w2).buffer];
    expect(b1 !== b2 && [values.buffer, zBuffer].includes(b1) && [values.buffer, zBuffer].includes(b2)).toBe(true);
    tf.dispose([x, w1, w2]);
  });
});
