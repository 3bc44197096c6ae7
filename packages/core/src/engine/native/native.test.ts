// Each native kernel against the tfjs cpu backend (forward and tf.grad), on the shapes, strides,
// paddings and dilations the DCGAN / DDPM U-Net / DANN models use, plus a full model gradient check.
// Skips (with the reason) where the addon has not been built.
import * as tf from '@tensorflow/tfjs';

import * as fs from 'fs';

import { outputPoolStats, setOutputPoison } from './alloc';
import { batchNormTrain, gelu, groupNorm, loadNativeBackend, nativeAddon, nativeKernelStats } from './index';

const loaded = loadNativeBackend();
const NATIVE = loaded.ok ? loaded.backendName : 'dlcv-native';
const d = loaded.ok ? describe : describe.skip;
if (!loaded.ok) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPING native kernel tests: ${loaded.reason}`);
  test('native addon not built (kernel tests skipped)', () => {
    // CI sets DLCV_REQUIRE_NATIVE=1 where the addon must exist, so a broken build fails loudly.
    if (process.env.DLCV_REQUIRE_NATIVE === '1') throw new Error(`DLCV_REQUIRE_NATIVE=1 but ${loaded.reason}`);
    expect(loaded.ok).toBe(false);
  });
}

const TOL = 1e-4;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
function rand(shape: number[], seed: number, lo = -1, hi = 1): { shape: number[]; data: Float32Array } {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * r();
  return { shape, data };
}
type Spec = { shape: number[]; data: Float32Array };

/** Runs fn on a backend with fresh tensors for the inputs; returns the outputs' values. */
function runOn(backend: string, inputs: Spec[], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = inputs.map((s) => tf.tensor(s.data.slice(), s.shape, 'float32'));
    const r = fn(...xs);
    const list = Array.isArray(r) ? r : [r];
    return list.map((t) => Float32Array.from(t.dataSync() as ArrayLike<number>));
  });
}

function relErr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  if (Number.isNaN(num)) return Infinity;
  return num / Math.max(den, 1e-12);
}

/** Compares forward and the gradients of sum(out * w) w.r.t. all inputs on both backends. */
function check(name: string, inputs: Spec[], fn: (...xs: tf.Tensor[]) => tf.Tensor, opts: { grad?: boolean; tol?: number } = {}) {
  const tol = opts.tol ?? TOL;
  const wrapped = (...xs: tf.Tensor[]) => {
    const y = fn(...xs);
    if (opts.grad === false) return [y];
    const g = tf.grads((...ys: tf.Tensor[]) => {
      const o = fn(...ys);
      // weight the output so gradients are not all-ones
      const w = tf.tensor(rand(o.shape, 99).data, o.shape);
      return tf.sum(tf.mul(o, w));
    })(xs);
    return [y, ...g];
  };
  const ref = runOn('cpu', inputs, wrapped);
  const got = runOn(NATIVE, inputs, wrapped);
  ref.forEach((r, i) => {
    const e = relErr(got[i]!, r);
    if (!(e < tol)) throw new Error(`${name}: output ${i === 0 ? 'forward' : `grad ${i - 1}`} rel err ${e}`);
  });
}

// Kernel outputs start as NaN here (not uninitialized memory), so any element a kernel leaves
// unwritten shows up in the comparisons below.
beforeAll(() => setOutputPoison(true));
afterAll(() => {
  setOutputPoison(false);
  tf.setBackend('cpu');
});

d('native backend registration', () => {
  test('reports threads and detail', () => {
    expect(loaded.ok).toBe(true);
    if (loaded.ok) {
      expect(loaded.threads).toBeGreaterThanOrEqual(1);
      expect(loaded.detail).toMatch(/oneDNN/);
    }
  });
  test('every cpu kernel is available on the native backend', () => {
    const cpu = new Set(tf.getKernelsForBackend('cpu').map((k) => k.kernelName));
    const nat = new Set(tf.getKernelsForBackend(NATIVE).map((k) => k.kernelName));
    for (const k of cpu) expect(nat.has(k)).toBe(true);
  });
});

d('convolutions', () => {
  const cases: [string, number[], number[], number | [number, number], 'same' | 'valid' | number, number][] = [
    // name, x, filter (HWIO), stride, pad, dilation
    ['dcgan D conv1 4x4 s2 p1', [2, 16, 16, 3], [4, 4, 3, 8], 2, 'same', 1],
    ['dcgan D conv 4x4 s2 p1', [2, 8, 8, 16], [4, 4, 16, 32], 2, 'same', 1],
    ['dcgan D last 4x4 s1 valid', [3, 4, 4, 32], [4, 4, 32, 1], 1, 'valid', 1],
    ['ddpm 3x3 s1 p1', [2, 7, 7, 16], [3, 3, 16, 8], 1, 'same', 1],
    ['dann 3x3 s1 p1, 1 channel', [4, 28, 28, 1], [3, 3, 1, 8], 1, 'same', 1],
    ['3x3 numeric pad 1', [2, 9, 9, 4], [3, 3, 4, 5], 1, 1, 1],
    ['3x3 dilation 2', [1, 11, 11, 4], [3, 3, 4, 6], 1, 'same', 2],
    ['5x5 s2 valid odd', [2, 13, 11, 3], [5, 5, 3, 4], 2, 'valid', 1],
    ['rect stride [1,2]', [2, 10, 10, 3], [3, 2, 3, 4], [1, 2], 'same', 1],
  ];
  for (const [name, xs, ws, s, p, dil] of cases) {
    test(`conv2d ${name}`, () => {
      // tfjs has no conv2d gradient for dilation > 1: forward only there
      check(name, [rand(xs, 1), rand(ws, 2)], (x, w) =>
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, p, 'NHWC', dil), { grad: dil === 1 });
    });
  }
  const tcases: [string, number[], number[], number[], number, 'same' | 'valid'][] = [
    // name, x, filter (H W outC inC), output, stride, pad
    ['dcgan G first 4x4 s1 valid (1x1 -> 4x4)', [2, 1, 1, 16], [4, 4, 8, 16], [2, 4, 4, 8], 1, 'valid'],
    ['dcgan G 4x4 s2 p1', [2, 4, 4, 16], [4, 4, 8, 16], [2, 8, 8, 8], 2, 'same'],
    ['dcgan G last 4x4 s2 p1 to 3 channels', [2, 8, 8, 8], [4, 4, 3, 8], [2, 16, 16, 3], 2, 'same'],
    ['ddpm up 2x2 s2', [2, 7, 7, 8], [2, 2, 4, 8], [2, 14, 14, 4], 2, 'valid'],
    ['ddpm up0 7x7 s7', [2, 1, 1, 8], [7, 7, 6, 8], [2, 7, 7, 6], 7, 'valid'],
  ];
  for (const [name, xs, ws, os, s, p] of tcases) {
    test(`conv2dTranspose ${name}`, () => {
      check(name, [rand(xs, 3), rand(ws, 4)], (x, w) =>
        tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, os as [number, number, number, number], s, p));
    });
  }
  // 3x3 stride-1 layers with >= 16 channels each way take oneDNN's Winograd F(4x4,3x3) kernels:
  // the U-Net's shapes at small size, odd sizes (partial 4x4 tiles), valid padding, fused bias.
  const winogradCases: [string, number[], number[], 'same' | 'valid'][] = [
    ['ddpm 3x3 16->32 same', [2, 12, 12, 16], [3, 3, 16, 32], 'same'],
    ['ddpm 3x3 32->16 same, odd size', [3, 13, 11, 32], [3, 3, 32, 16], 'same'],
    ['3x3 16->16 valid', [2, 10, 9, 16], [3, 3, 16, 16], 'valid'],
    ['ddpm 3x3 32->32 at 14x14', [1, 14, 14, 32], [3, 3, 32, 32], 'same'],
  ];
  for (const [name, xs, ws, p] of winogradCases) {
    test(`conv2d Winograd ${name}`, () => {
      check(name, [rand(xs, 11), rand(ws, 12)], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, p));
      check(`${name} + bias`, [rand(xs, 13), rand(ws, 14), rand([ws[3]!], 15)], (x, w, b) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: p, bias: b }));
    });
  }
  test('3x3 stride-1 layers with 16+ channels run on Winograd, a 1-channel layer does not', () => {
    // oneDNN 2.6 has Winograd only for AVX-512 CPUs; elsewhere every layer stays direct.
    const avx512 = /\bavx512f\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    const convAndGrads = (xs: number[], ws: number[]) =>
      runOn(NATIVE, [rand(xs, 1), rand(ws, 2)], (x, w) => tf.grads((a, b) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')))([x!, w!]));
    convAndGrads([1, 9, 9, 16], [3, 3, 16, 24]);
    convAndGrads([1, 9, 9, 1], [3, 3, 1, 24]);
    const lines = nativeAddon()!.convImplementations();
    const of = (shape: string) => lines.filter((l) => l.includes(shape));
    const wide = of('1x9x9x16 k3x3x24 s1x1');
    expect(wide.map((l) => l.split(' ')[0]).sort()).toEqual(['backward_data', 'backward_weights', 'forward']);
    for (const l of wide) expect(/wino/.test(l)).toBe(avx512);
    const oneChannel = of('1x9x9x1 k3x3x24 s1x1');
    expect(oneChannel.length).toBeGreaterThan(0);
    for (const l of oneChannel) expect(l).not.toMatch(/wino/);
  });
  test('fused conv2d + bias + relu / leakyrelu / sigmoid', () => {
    for (const activation of ['relu', 'leakyrelu', 'sigmoid', 'linear'] as const) {
      check(`fused ${activation}`, [rand([2, 8, 8, 4], 5), rand([3, 3, 4, 6], 6), rand([6], 7)], (x, w, b) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation, leakyreluAlpha: 0.2 }));
    }
  });
});

d('output pool', () => {
  // Tensors here have 64 x 512 = 32768 elements: above the pool's floor.
  const valuesOf = (t: tf.Tensor) => (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values;
  const input = (seed: number) => tf.tensor2d(rand([64, 512], seed).data, [64, 512]);
  beforeEach(() => tf.setBackend(NATIVE));

  test('a disposed output\'s buffer is the next same-size output\'s, and holds its new values', () => {
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

  test('what dataSync returned survives its tensor\'s disposal and the buffer\'s reuse', async () => {
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

d('matmul', () => {
  test('dense shapes, transposes, batch, broadcast', () => {
    check('mm', [rand([64, 300], 1), rand([300, 50], 2)], (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D));
    check('mm tA', [rand([30, 16], 1), rand([30, 20], 2)], (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, true, false));
    check('mm tB', [rand([16, 30], 1), rand([20, 30], 2)], (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true));
    check('mm tA tB', [rand([30, 16], 1), rand([20, 30], 2)], (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, true, true));
    check('mm k = 0 (all zeros)', [rand([3, 0], 1), rand([0, 4], 2)], (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), { grad: false });
    check('bmm', [rand([3, 4, 5], 1), rand([3, 5, 6], 2)], (a, b) => tf.matMul(a, b));
    check('bmm broadcast', [rand([3, 4, 5], 1), rand([1, 5, 6], 2)], (a, b) => tf.matMul(a, b), { grad: false });
  });
  test('fused matmul with bias and activations (dense layers)', () => {
    for (const activation of ['relu', 'linear', 'sigmoid'] as const) {
      check(`fmm ${activation}`, [rand([32, 100], 1), rand([100, 50], 2), rand([50], 3)], (a, b, c) =>
        tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: c, activation }));
    }
  });
});

d('elementwise', () => {
  const pairs: [number[], number[]][] = [
    [[2, 3, 4, 5], [2, 3, 4, 5]], [[2, 3, 4, 5], [5]], [[2, 3, 4, 5], [2, 1, 1, 5]], [[4, 5], []],
    [[3, 1], [1, 4]], [[2, 3, 4], [3, 1]], [[1, 1, 1, 5], [2, 3, 4, 5]], [[70000], [70000]], [[300, 256], [256]],
  ];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, number?][] = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div], ['maximum', tf.maximum],
    ['minimum', tf.minimum], ['squaredDifference', tf.squaredDifference], ['pow', tf.pow, 0.5],
  ];
  for (const [name, op, lo] of ops) {
    test(`${name} with broadcasting (forward + grads)`, () => {
      pairs.forEach(([sa, sb], i) => {
        check(`${name} ${sa}x${sb}`, [rand(sa, 10 + i, lo ?? -1, 2), rand(sb, 20 + i, name === 'div' ? 0.5 : -1, 2)], op,
          // tfjs's own Maximum/Minimum/SquaredDifference/Pow gradients do not reduce broadcasts
          { grad: ['add', 'sub', 'mul', 'div'].includes(name) || sa.join() === sb.join() });
      });
    });
  }
  test('prelu', () => check('prelu', [rand([2, 4, 4, 3], 1), rand([3], 2, 0, 0.5)], (x, a) => tf.prelu(x, a)));
  const unary: [string, (x: tf.Tensor) => tf.Tensor, number?, number?][] = [
    ['relu', tf.relu], ['relu6', (x) => tf.relu6(tf.mul(x, 8))], ['leakyRelu', (x) => tf.leakyRelu(x, 0.2)], ['elu', tf.elu],
    ['sigmoid', tf.sigmoid], ['tanh', tf.tanh], ['exp', tf.exp], ['log', tf.log, 0.1, 3], ['neg', tf.neg],
    ['sqrt', tf.sqrt, 0.1, 3], ['rsqrt', tf.rsqrt, 0.1, 3], ['square', tf.square], ['abs', tf.abs], ['erf', tf.erf],
    ['reciprocal', tf.reciprocal, 0.2, 3], ['softplus', tf.softplus], ['selu', tf.selu], ['log1p', tf.log1p, 0, 2],
    ['expm1', tf.expm1], ['clipByValue', (x) => tf.clipByValue(x, -0.3, 0.4)], ['step', (x) => tf.step(x, 0.1)],
    ['sign', tf.sign],
  ];
  for (const [name, op, lo, hi] of unary) {
    test(`${name} (forward + grad)`, () => {
      check(name, [rand([3, 5, 7, 11], 7, lo ?? -3, hi ?? 3)], op);
      check(`${name} big`, [rand([40000], 8, lo ?? -3, hi ?? 3)], op);
    });
  }
  test('comparisons and select', () => {
    check('where', [rand([4, 6], 1), rand([4, 6], 2)], (a, b) => tf.where(tf.greater(a, b), a, b), { grad: false });
    for (const cmp of [tf.greater, tf.greaterEqual, tf.less, tf.lessEqual, tf.equal, tf.notEqual]) {
      check('cmp', [rand([4, 6], 1), rand([6], 2)], (a, b) => tf.cast(cmp(a, b), 'float32'), { grad: false });
    }
  });
});

d('reductions and layout', () => {
  const shape = [4, 5, 6, 7];
  const axesList: (number | number[])[] = [0, 1, 3, -1, [0, 1, 2], [1, 2], [0, 2], [1, 3], [0, 1, 2, 3]];
  for (const [name, op] of [['sum', tf.sum], ['mean', tf.mean], ['max', tf.max], ['min', tf.min]] as const) {
    test(`${name} over many axes (+ keepDims, grads)`, () => {
      for (const ax of axesList) {
        check(`${name} ${ax}`, [rand(shape, 3)], (x) => op(x, ax));
        check(`${name} ${ax} keep`, [rand(shape, 4)], (x) => op(x, ax, true));
      }
      // BN-like big column reduction
      check(`${name} big`, [rand([64, 16, 16, 32], 5)], (x) => op(x, [0, 1, 2]));
      check(`${name} big rows`, [rand([8, 20000], 5)], (x) => op(x, 1));
    });
  }
  test('prod, argMax, argMin', () => {
    check('prod', [rand([3, 4, 5], 1, 0.5, 1.5)], (x) => tf.prod(x, 1), { grad: false });
    check('argMax', [rand([3, 4, 5], 1)], (x) => tf.cast(tf.argMax(x, 1), 'float32'), { grad: false });
    check('argMin', [rand([3, 4, 5], 1)], (x) => tf.cast(tf.argMin(x, -1), 'float32'), { grad: false });
  });
  test('transpose, tile, slice, concat', () => {
    check('transpose', [rand([2, 3, 4, 5], 1)], (x) => tf.transpose(x, [0, 3, 1, 2]));
    check('transpose2', [rand([6, 7], 1)], (x) => tf.transpose(x));
    check('tile', [rand([1, 1, 1, 5], 1)], (x) => tf.tile(x, [2, 3, 4, 1]));
    check('tile2', [rand([2, 3], 1)], (x) => tf.tile(x, [3, 2]));
    check('slice', [rand([2, 6, 6, 8], 1)], (x) => tf.slice(x, [0, 1, 2, 3], [2, 3, 3, 4]));
    check('concat -1', [rand([2, 4, 4, 3], 1), rand([2, 4, 4, 5], 2)], (a, b) => tf.concat([a, b], -1));
    check('concat 0', [rand([2, 4], 1), rand([3, 4], 2)], (a, b) => tf.concat([a, b], 0));
    check('pad', [rand([2, 3, 4], 1)], (x) => tf.pad(x, [[1, 0], [0, 2], [3, 1]], 0.5));
    check('slice grad (pad)', [rand([8, 6], 1)], (x) => tf.slice(x, [0, 0], [4, 6]));
    check('split -1', [rand([2, 4, 4, 7], 1)], (x) => tf.split(x, [3, 4], -1)[1]!);
    check('split 1 even', [rand([2, 6, 3], 1)], (x) => tf.split(x, 3, 1)[2]!);
  });
});

d('pooling', () => {
  test('maxPool 2x2 s2 (negative maxima too) and grads', () => {
    check('maxpool', [rand([2, 8, 8, 5], 1, -3, -1)], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
    check('maxpool mixed', [rand([2, 28, 28, 4], 2)], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
    check('maxpool 3 s1 same', [rand([2, 7, 7, 3], 3)], (x) => tf.maxPool(x as tf.Tensor4D, 3, 1, 'same'));
    check('maxpool 3 s2 same, 17 channels', [rand([2, 9, 9, 17], 4)], (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'));
  });
  test('maxPool grads where the windows tile the input: ties, odd sizes, padding, -Infinity', () => {
    // values on a 0.5 grid: many windows hold their maximum twice (the first one gets the gradient)
    const ties = (shape: number[], seed: number) => {
      const s = rand(shape, seed, -2, 2);
      return { shape, data: s.data.map((v) => Math.round(v * 2) / 2) };
    };
    check('tiled 2x2 ties', [ties([2, 8, 8, 33], 5)], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
    check('tiled 2x2 odd size (last row and column in no window)', [ties([2, 7, 9, 3], 6)], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
    check('2x2 same on odd size (last window padded)', [ties([2, 7, 9, 3], 7)], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'same'));
    check('tiled 3x3 s3 ties', [ties([1, 9, 12, 8], 8)], (x) => tf.maxPool(x as tf.Tensor4D, 3, 3, 'valid'));
    check('tiled 2x1 rectangular', [ties([2, 6, 5, 4], 9)], (x) => tf.maxPool(x as tf.Tensor4D, [2, 1], [2, 1], 'valid'));
    const withInf = rand([1, 4, 4, 2], 10);
    for (const i of [0, 1, 2, 3, 8, 9, 10, 11]) withInf.data[i] = -Infinity; // the first window, both channels
    const grad = (backend: string) => runOn(backend, [withInf], (x) => tf.grad((v: tf.Tensor) => tf.sum(tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid')))(x!))[0]!;
    expect(Array.from(grad(NATIVE))).toEqual(Array.from(grad('cpu')));
  });
  test('avgPool 7 s7 and padded 3x3, grads', () => {
    check('avgpool7', [rand([2, 7, 7, 6], 1)], (x) => tf.avgPool(x as tf.Tensor4D, 7, 7, 'valid'));
    check('avgpool3 same', [rand([2, 6, 6, 3], 2)], (x) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'));
  });
});

d('normalization', () => {
  test('batchNorm (BN2d, BN1d) forward and grads, via moments as in tf.layers training', () => {
    const bn = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const axes = x.shape.map((_, i) => i).slice(0, -1);
      const { mean, variance } = tf.moments(x, axes);
      return tf.batchNorm(x, mean, variance, b, g, 1e-5);
    };
    check('bn2d', [rand([4, 6, 6, 8], 1), rand([8], 2, 0.5, 1.5), rand([8], 3)], bn);
    check('bn1d', [rand([32, 50], 1), rand([50], 2, 0.5, 1.5), rand([50], 3)], bn);
    check('bn inference', [rand([4, 6, 6, 8], 1), rand([8], 2), rand([8], 3, 0.5, 1.5)], (x, m, v) =>
      tf.batchNorm(x, m, v, undefined, undefined, 1e-3), { grad: false });
  });
  test('GroupNorm pieces (reshape + moments over non-contiguous axes)', () => {
    const gn = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const [n, h, w, c] = x.shape as [number, number, number, number];
      const G = 4;
      const xr = tf.reshape(x, [n, h, w, G, c / G]);
      const { mean, variance } = tf.moments(xr, [1, 2, 4], true);
      const xn = tf.reshape(tf.div(tf.sub(xr, mean), tf.sqrt(tf.add(variance, 1e-5))), [n, h, w, c]);
      return tf.add(tf.mul(xn, g), b);
    };
    check('groupnorm', [rand([2, 7, 7, 16], 1), rand([16], 2, 0.5, 1.5), rand([16], 3)], gn);
  });
  test('fused batchNormTrain (native kernel) against moments + batchNorm on cpu, with grads', () => {
    for (const shape of [[4, 6, 6, 8], [64, 50], [3, 5, 5, 130]]) {
      const c = shape[shape.length - 1]!;
      check(`bnTrain ${shape}`, [rand(shape, 1, -2, 3), rand([c], 2, 0.5, 1.5), rand([c], 3)], (x, g, b) => {
        const r = batchNormTrain(x, g, b, 1e-5);
        return r.y;
      });
      check(`bnTrain stats ${shape}`, [rand(shape, 1, -2, 3), rand([c], 2, 0.5, 1.5), rand([c], 3)], (x, g, b) => {
        const r = batchNormTrain(x, g, b, 1e-5);
        return tf.concat([r.mean, r.variance]);
      }, { grad: false });
    }
  });
  test('fused groupNorm (native kernel) against an independent reshape + moments GroupNorm on cpu, with grads', () => {
    // reference: written out here, not the op's own fallback
    const ref = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, groups: number) => {
      const n = x.shape[0]!, c = x.shape[x.shape.length - 1]!;
      const xr = tf.reshape(x, [n, -1, groups, c / groups]);
      const { mean, variance } = tf.moments(xr, [1, 3], true);
      return tf.add(tf.mul(tf.reshape(tf.div(tf.sub(xr, mean), tf.sqrt(tf.add(variance, 1e-5))), x.shape), g), b);
    };
    // U-Net shapes (n_feat 16 stand-ins: 28x28, 14x14, 7x7), a group of one channel, rank 2, batch 1
    const cases: [number[], number][] = [[[3, 28, 28, 16], 8], [[2, 14, 14, 32], 8], [[4, 7, 7, 64], 8], [[2, 5, 5, 6], 6], [[5, 24], 4], [[1, 3, 3, 8], 2]];
    for (const [shape, groups] of cases) {
      const c = shape[shape.length - 1]!;
      check(`groupNorm ${shape} / ${groups}`, [rand(shape, 1, -2, 3), rand([c], 2, 0.5, 1.5), rand([c], 3)], (x, g, b) =>
        tf.getBackend() === 'cpu' ? ref(x, g, b, groups) : groupNorm(x, g as tf.Tensor1D, b as tf.Tensor1D, groups, 1e-5));
    }
    // the native side above really ran the fused kernels, not the op's tfjs fallback
    expect(tf.getKernel('DlcvGroupNorm', NATIVE)).toBeDefined();
    expect(tf.getKernel('DlcvGroupNormGrad', NATIVE)).toBeDefined();
  });
  test('fused gelu against the erf composition on cpu, with grads', () => {
    check('gelu op', [rand([2, 7, 7, 16], 1, -4, 4)], (x) => gelu(x));
  });
  test('GELU (exact, via erf) as in the U-Net', () => {
    check('gelu', [rand([2, 7, 7, 16], 1, -3, 3)], (x) =>
      tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))));
  });
});

d('optimizer and full model', () => {
  test('fused Adam matches tfjs Adam over 3 steps', () => {
    const run = (backend: string) => {
      tf.setBackend(backend);
      const w = tf.variable(tf.tensor(rand([50, 40], 1).data, [50, 40]), true, `adam_w_${backend}`);
      const b = tf.variable(tf.tensor(rand([40], 2).data, [40]), true, `adam_b_${backend}`);
      const opt = tf.train.adam(0.01, 0.5, 0.999);
      const x = tf.tensor(rand([8, 50], 3).data, [8, 50]);
      for (let i = 0; i < 3; i++) opt.minimize(() => tf.sum(tf.square(tf.add(tf.matMul(x, w), b))) as tf.Scalar);
      const r = [w.dataSync().slice(), b.dataSync().slice()] as Float32Array[];
      tf.dispose([w, b, x]);
      opt.dispose();
      return r;
    };
    const ref = run('cpu');
    const got = run(NATIVE);
    expect(relErr(got[0]!, ref[0]!)).toBeLessThan(TOL);
    expect(relErr(got[1]!, ref[1]!)).toBeLessThan(TOL);
  });

  test('full model gradient check: DCGAN-style D and G (tf.layers, training mode)', () => {
    const build = () => {
      const g = tf.sequential({ layers: [
        tf.layers.conv2dTranspose({ inputShape: [1, 1, 16], filters: 32, kernelSize: 4, strides: 1, padding: 'valid', useBias: false }),
        tf.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }),
        tf.layers.reLU(),
        tf.layers.conv2dTranspose({ filters: 16, kernelSize: 4, strides: 2, padding: 'same', useBias: false }),
        tf.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }),
        tf.layers.reLU(),
        tf.layers.conv2dTranspose({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', useBias: false, activation: 'tanh' }),
      ] });
      const dm = tf.sequential({ layers: [
        tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 16, kernelSize: 4, strides: 2, padding: 'same', useBias: false }),
        tf.layers.leakyReLU({ alpha: 0.2 }),
        tf.layers.conv2d({ filters: 32, kernelSize: 4, strides: 2, padding: 'same', useBias: false }),
        tf.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }),
        tf.layers.leakyReLU({ alpha: 0.2 }),
        tf.layers.conv2d({ filters: 1, kernelSize: 4, strides: 1, padding: 'valid', useBias: false, activation: 'sigmoid' }),
        tf.layers.flatten(),
      ] });
      return { g, dm };
    };
    const z = rand([4, 1, 1, 16], 11);
    let weights: Float32Array[] | null = null;
    const run = (backend: string) => {
      tf.setBackend(backend);
      const { g, dm } = build();
      const vars = [...g.trainableWeights, ...dm.trainableWeights].map((w) => w.read() as tf.Variable);
      if (!weights) weights = vars.map((v) => v.dataSync().slice() as Float32Array);
      else vars.forEach((v, i) => v.assign(tf.tensor(weights![i]!, v.shape)));
      const zt = tf.tensor(z.data, z.shape);
      const { value, grads } = tf.variableGrads(() => {
        const fake = g.apply(zt, { training: true }) as tf.Tensor;
        const p = dm.apply(fake, { training: true }) as tf.Tensor;
        return tf.losses.sigmoidCrossEntropy(tf.onesLike(p), p) as tf.Scalar;
      }, vars);
      const out = [value.dataSync().slice() as Float32Array, ...vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array)];
      tf.dispose([zt, value, ...Object.values(grads)]);
      g.dispose();
      dm.dispose();
      return out;
    };
    const ref = run('cpu');
    const got = run(NATIVE);
    ref.forEach((r, i) => expect(relErr(got[i]!, r)).toBeLessThan(TOL));
  });

  test('hot kernels ran natively (no silent fallbacks)', () => {
    const stats = nativeKernelStats();
    for (const k of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul', 'Add', 'Multiply', 'Sum', 'Mean']) {
      const s = stats.get(k);
      expect(s && s.native > 0).toBe(true);
    }
    for (const k of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'FusedConv2D', 'MaxPool', 'MaxPoolGrad']) {
      expect(stats.get(k)?.fallback ?? 0).toBe(0);
    }
  });
});

describe('groupNorm op on a backend without the fused kernel (tfjs composition)', () => {
  test('matches the closed form per sample and group', () => {
    tf.setBackend('cpu');
    // one sample, 2x1 positions, 4 channels in 2 groups: group 0 = {1, 2, 3, 4}, group 1 = {10, 30, 20, 40}
    const x = tf.tensor4d([1, 2, 10, 20, 3, 4, 30, 40], [1, 2, 1, 4]);
    const y = groupNorm(x, tf.tensor1d([1, 2, 1, 1]), tf.tensor1d([0, 0, 0, 5]), 2, 0).dataSync();
    const z = (v: number, m: number, varr: number) => (v - m) / Math.sqrt(varr);
    const expected = [z(1, 2.5, 1.25), 2 * z(2, 2.5, 1.25), z(10, 25, 125), z(20, 25, 125) + 5,
      z(3, 2.5, 1.25), 2 * z(4, 2.5, 1.25), z(30, 25, 125), z(40, 25, 125) + 5];
    expected.forEach((e, i) => expect(y[i]).toBeCloseTo(e, 5));
  });
  test('rejects a channel count the groups do not divide', () => {
    tf.setBackend('cpu');
    expect(() => groupNorm(tf.zeros([1, 2, 2, 6]), tf.ones([6]) as tf.Tensor1D, tf.zeros([6]) as tf.Tensor1D, 4)).toThrow(/6 channels cannot be split into 4 groups/);
  });
});
