// The libtorch engine beyond the shared kernel specs: its storage (upload once or fill on the
// device, download on read, Reshape sharing data, refcounts), the host trips of kernels without
// an ATen version (counted on the CPU, an error naming the kernel on CUDA), determinism
// (deterministic algorithms by default, for CUDA), the convolution filters' copies kept with their
// handles, and the engine order (the convolution settings: conv-settings.test.ts; the op queue:
// op-queue.test.ts; Adam: adam.test.ts).
import * as fs from 'node:fs';

import * as tf from '@tensorflow/tfjs';
import type { KernelFunc } from '@tensorflow/tfjs';

import { batchNormTrain } from '../native';
import { rand } from '../kernels/test-utils/compare';
import { describeEngine, ENGINES } from '../kernels/test-utils/engines';
import { hostKernel } from './host-kernels';
import { setupEngine } from '../engine';
import { cudaDeviceVisible, loadTorchBackend, referenceBlas, torchAddon } from './index';
import type { Handle } from './addon';
import { recordAddonCalls, trainingSteps } from './test-utils/torch-steps';

const entry = ENGINES.find((e) => e.name === 'libtorch')!;

describe('host trips on CUDA', () => {
  test('a kernel without an ATen version is an error that names it, never a silent host trip', () => {
    const stats = new Map([['OneHot', { native: 0, fallback: 0, lastReason: undefined }]]);
    const cpuKernel = (() => {
      throw new Error('the cpu kernel must not run');
    }) as unknown as KernelFunc;
    const k = hostKernel('OneHot', cpuKernel, stats, true) as unknown as (args: object) => unknown;
    expect(() => k({ inputs: {}, backend: { onCuda: true, noHostTrips: true }, attrs: {} })).toThrow(/libtorch engine on CUDA: kernel OneHot has no ATen implementation/);
    expect(stats.get('OneHot')!.fallback).toBe(0);
  });
});

describeEngine(entry, 'libtorch storage and host trips', (engine) => {
  beforeEach(() => tf.setBackend(engine.backend));

  test('an asynchronous read gives the values per dtype, even when the tensor is disposed before it is done, and many may be in flight', async () => {
    const big = tf.tensor1d(Float32Array.from({ length: 1e6 }, (_, i) => i)).mul(0.5);
    const reading = big.data();
    big.dispose(); // the download holds its own reference
    const values = (await reading) as Float32Array;
    expect(values).toHaveLength(1e6);
    expect([values[0], values[1], values[999999]]).toEqual([0, 0.5, 499999.5]);
    const ints = tf.tensor1d([7, -8, 9], 'int32');
    const bools = tf.tensor1d([true, false, true], 'bool');
    const parts = Array.from({ length: 20 }, (_, i) => tf.fill([1000], i));
    const [i32, b8, ...filled] = await Promise.all([ints.data(), bools.data(), ...parts.map((t) => t.data())]);
    expect(i32).toEqual(new Int32Array([7, -8, 9]));
    expect(b8).toEqual(new Uint8Array([1, 0, 1]));
    filled.forEach((f, i) => expect(Array.from(f as Float32Array).every((v) => v === i)).toBe(true));
    tf.dispose([ints, bools, ...parts]);
  });

  test('an array of one repeated value is kept as that value (read on the host, filled on the device with the same bits when a kernel takes it); any other is uploaded', () => {
    const { calls, restore } = recordAddonCalls(['upload', 'fill', 'download']);
    const bitsOf = (xs: ArrayLike<number>) => Array.from(xs).map((v) => (Object.is(v, -0) ? '-0' : String(v)));
    try {
      const cases: [tf.Tensor, 'fill' | 'upload', ArrayLike<number>][] = [
        [tf.tensor2d(new Float32Array(6), [2, 3]), 'fill', [0, 0, 0, 0, 0, 0]],
        [tf.tensor1d(new Float32Array([-0, -0])), 'fill', [-0, -0]],
        [tf.tensor1d(new Float32Array([0, -0])), 'upload', [0, -0]],
        [tf.scalar(0.1), 'fill', [Math.fround(0.1)]],
        [tf.tensor1d(new Float32Array([NaN, NaN])), 'upload', [NaN, NaN]],
        [tf.tensor1d([1, 1, 2]), 'upload', [1, 1, 2]],
        [tf.tensor1d(new Int32Array([-7, -7, -7]), 'int32'), 'fill', [-7, -7, -7]],
        [tf.tensor1d([true, true], 'bool'), 'fill', [1, 1]],
        [tf.tensor1d(new Float32Array(0)), 'upload', []],
      ];
      // writing uploads the arrays of mixed values only
      expect(calls).toEqual(cases.filter((c) => c[1] === 'upload').map(() => 'upload'));
      calls.length = 0;
      for (const [t, how, values] of cases) {
        // a constant is read without the device
        expect(bitsOf(t.dataSync())).toEqual(bitsOf(values));
        expect(calls.splice(0)).toEqual(how === 'fill' ? [] : ['download']);
      }
      const backend = tf.backend() as unknown as { handle: (t: tf.Tensor) => unknown };
      for (const [t, how, values] of cases) {
        // a kernel takes the tensor: a constant is filled on the device, once; reads now come from there
        backend.handle(t);
        expect([t.shape, t.dtype, calls.splice(0)]).toEqual([t.shape, t.dtype, how === 'fill' ? ['fill'] : []]);
        expect(bitsOf(t.dataSync())).toEqual(bitsOf(values));
        backend.handle(t);
        expect(calls.splice(0)).toEqual(['download']);
      }
      tf.dispose(cases.map((c) => c[0]));
    } finally {
      restore();
    }
  });

  test('a constant operand of add, sub and multiply goes to ATen as a number, with the bits of the filled tensor', () => {
    const backend = tf.backend() as unknown as { handle: (t: tf.Tensor) => unknown };
    const { calls, restore } = recordAddonCalls(['fill', 'binary', 'binaryScalar']);
    const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
    const tiny = 1e-40;
    const x = tf.tensor2d([1.5, -0, 0, 3.4e38, -Infinity, NaN, tiny, -7.25, 1 / 3, 2 ** 24 + 2], [2, 5]);
    const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
      ['add', tf.add],
      ['sub', tf.sub],
      ['mul', tf.mul],
    ];
    try {
      for (const value of [0, -0, 0.1, -3.5, 3.4e38, Infinity, tiny, 1 / 3]) {
        for (const [name, op] of ops) {
          for (const scalarFirst of [false, true]) {
            const run = (materialise: boolean) => {
              const c = tf.scalar(value);
              if (materialise) backend.handle(c);
              calls.length = 0;
              const out = scalarFirst ? op(c, x) : op(x, c);
              const used = calls.filter((k) => k !== 'fill');
              const result = [bits(out), used] as const;
              tf.dispose([c, out]);
              return result;
            };
            const [viaNumber, numberCalls] = run(false);
            const [viaTensor, tensorCalls] = run(true);
            expect([name, value, scalarFirst, numberCalls, tensorCalls]).toEqual([name, value, scalarFirst, ['binaryScalar'], ['binary']]);
            expect([name, value, scalarFirst, viaNumber]).toEqual([name, value, scalarFirst, viaTensor]);
          }
        }
      }
      // a constant that widens the result is filled: ATen broadcasts it as a tensor
      calls.length = 0;
      const wide = tf.add(tf.tensor1d([1, 2]), tf.fill([3, 2], 0.5));
      expect(calls).toEqual(['fill', 'binary']);
      expect(Array.from(wide.dataSync())).toEqual([1.5, 2.5, 1.5, 2.5, 1.5, 2.5]);
      // division keeps its tensor operand (ATen divides by a CUDA tensor, but multiplies by the inverse of a scalar)
      calls.length = 0;
      expect(Array.from(tf.div(tf.tensor1d([1, 2]), tf.scalar(4)).dataSync())).toEqual([0.25, 0.5]);
      expect(calls).toEqual(['fill', 'binary']);
    } finally {
      restore();
    }
  });

  test('tensors move between this backend and the cpu backend both ways, each counted by the one that holds it', async () => {
    const backend = tf.backend();
    const torchBefore = backend.numDataIds();
    await tf.setBackend('cpu');
    const cpuBackend = tf.backend();
    const cpuBefore = cpuBackend.numDataIds();
    const made = tf.tensor1d([1.5, -2, 4]);
    expect(cpuBackend.numDataIds()).toBe(cpuBefore + 1);
    await tf.setBackend(engine.backend);
    // a kernel here takes the cpu tensor: its data moves here
    const doubled = tf.mul(made, 2);
    expect(Array.from(doubled.dataSync())).toEqual([3, -4, 8]);
    expect(backend.numDataIds()).toBe(torchBefore + 2);
    expect(cpuBackend.numDataIds()).toBe(cpuBefore);
    // and back: the cpu backend takes a tensor made here
    await tf.setBackend('cpu');
    expect(Array.from(tf.add(doubled, 1).dataSync())).toEqual([4, -3, 9]);
    expect(backend.numDataIds()).toBe(torchBefore + 1);
    await tf.setBackend(engine.backend);
    tf.dispose([made, doubled]);
    expect(backend.numDataIds()).toBe(torchBefore);
    expect(Array.from(tf.tensor1d([7]).dataSync())).toEqual([7]); // the store works on after the moves
  });

  test('values round-trip per dtype; Reshape shares the data; dispose frees every tensor', () => {
    const backend = tf.backend();
    const before = backend.numDataIds();
    tf.tidy(() => {
      const f = tf.tensor2d([1.5, -2, 3, 4.25, 5, 6], [2, 3]);
      expect(Array.from(f.dataSync())).toEqual([1.5, -2, 3, 4.25, 5, 6]);
      expect(tf.tensor1d([7, -8, 9], 'int32').dataSync()).toEqual(new Int32Array([7, -8, 9]));
      expect(tf.tensor1d([true, false, true], 'bool').dataSync()).toEqual(new Uint8Array([1, 0, 1]));
      const r = f.reshape([3, 2]);
      expect(r.dataId).toBe(f.dataId);
      // an op on the reshaped tensor sees the [3, 2] shape (a view of the same data)
      expect(Array.from(tf.sum(r, 1).dataSync())).toEqual([-0.5, 7.25, 11]);
      expect(Array.from(tf.cast(f, 'int32').dataSync())).toEqual([1, -2, 3, 4, 5, 6]);
      expect(Array.from(tf.greater(f, tf.scalar(2)).dataSync())).toEqual([0, 0, 1, 1, 1, 1]);
    });
    expect(backend.numDataIds()).toBe(before);
  });

  test('a kernel without an ATen version: an error that names it where host trips are off (on CUDA, and in these specs), else a host trip counted as a fallback', () => {
    const backend = tf.backend() as unknown as { noHostTrips: boolean };
    const stats = engine.kernelStats();
    const floor = () => tf.tidy(() => tf.floor(tf.tensor1d([1.5, -0.5, 2])).dataSync());
    const strict = backend.noHostTrips;
    try {
      backend.noHostTrips = true;
      expect(floor).toThrow(/kernel Floor has no ATen implementation/);
      backend.noHostTrips = false;
      const before = stats.get('Floor')?.fallback ?? 0;
      expect(Array.from(floor())).toEqual([1, -1, 2]);
      expect(stats.get('Floor')!.fallback).toBe(before + 1);
    } finally {
      backend.noHostTrips = strict;
    }
  });

  test('ATen kernels beyond the shared list: one-hot (an index out of range gives a row of zeros), gather, logical ops, onesLike, fill', () => {
    const stats = engine.kernelStats();
    tf.tidy(() => {
      expect(Array.from(tf.oneHot(tf.tensor1d([2, 0, 5], 'int32'), 3).dataSync())).toEqual([0, 0, 1, 1, 0, 0, 0, 0, 0]);
      expect(Array.from(tf.gather(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), tf.tensor1d([2, 0], 'int32')).dataSync())).toEqual([5, 6, 1, 2]);
      expect(Array.from(tf.gather(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), tf.tensor2d([1, 1, 0, 1], [2, 2], 'int32'), 1).dataSync())).toEqual([
        2, 2, 1, 2, 4, 4, 3, 4, 6, 6, 5, 6,
      ]);
      const p = tf.tensor1d([true, true, false]);
      const q = tf.tensor1d([true, false, false]);
      expect(Array.from(tf.logicalAnd(p, q).dataSync())).toEqual([1, 0, 0]);
      expect(Array.from(tf.logicalOr(p, q).dataSync())).toEqual([1, 1, 0]);
      expect(Array.from(tf.logicalNot(q).dataSync())).toEqual([0, 1, 1]);
      expect(Array.from(tf.onesLike(tf.tensor1d([4, 5], 'int32')).dataSync())).toEqual([1, 1]);
      // fill: each value as the dtype stores it, read before and after a kernel takes it
      const tenth = tf.fill([2, 3], 0.1);
      expect(Array.from(tenth.dataSync())).toEqual(Array(6).fill(Math.fround(0.1)));
      expect(Array.from(tf.add(tenth, tf.tensor1d([1, 2, 3])).dataSync())).toEqual([1, 2, 3, 1, 2, 3].map((v) => Math.fround(v + Math.fround(0.1))));
      expect(Array.from(tf.neg(tenth).dataSync())).toEqual(Array(6).fill(-Math.fround(0.1)));
      expect(Array.from(tf.fill([3], -2.7, 'int32').dataSync())).toEqual([-2, -2, -2]);
      expect(Array.from(tf.logicalNot(tf.fill([2], 1, 'bool')).dataSync())).toEqual([0, 0]);
      expect(tf.fill([0, 4], 5).shape).toEqual([0, 4]);
    });
    for (const k of ['OneHot', 'GatherV2', 'LogicalAnd', 'LogicalOr', 'LogicalNot', 'OnesLike', 'Fill']) expect(stats.get(k)).toMatchObject({ fallback: 0 });
  });

  test('the same training steps twice give the same bytes', () => {
    const adamSteps = engine.kernelStats().get('Adam')?.native ?? 0;
    const first = trainingSteps();
    const second = trainingSteps();
    expect(engine.kernelStats().get('Adam')!.native).toBe(adamSteps + 6); // the one-call Adam ran
    expect(first.losses.every(Number.isFinite)).toBe(true);
    expect(second).toEqual(first);
  });
});

describeEngine(entry, 'libtorch determinism', (engine) => {
  beforeEach(() => tf.setBackend(engine.backend));
  const addon = () => torchAddon()!;

  test('deterministic algorithms by default (DLCV_TORCH_DETERMINISTIC unset), switchable', () => {
    expect(addon().info().deterministic).toBe(1);
    addon().setDeterministic(0);
    expect(addon().info().deterministic).toBe(0);
    addon().setDeterministic(1);
    expect(addon().info().deterministic).toBe(1);
  });

  test('gradients of sizes where GPUs split reductions across blocks are the same bits, run after run', () => {
    // batch 16 at 32x32: weight gradients reduce over 16K positions, the dense layer over 4K
    // inputs, max pool's gradient scatters into overlapping windows (3x3, stride 2)
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor(rand([16, 32, 32, 8], 40).data, [16, 32, 32, 8]) as tf.Tensor4D;
        const w1 = tf.variable(tf.tensor(rand([4, 4, 8, 32], 41, -0.2, 0.2).data, [4, 4, 8, 32]) as tf.Tensor4D);
        const w2 = tf.variable(tf.tensor(rand([4, 4, 16, 32], 42, -0.2, 0.2).data, [4, 4, 16, 32]) as tf.Tensor4D);
        const wd = tf.variable(tf.tensor(rand([4096, 10], 43, -0.05, 0.05).data, [4096, 10]) as tf.Tensor2D);
        const { value, grads } = tf.variableGrads(() => {
          const h = tf.leakyRelu(batchNormTrain(tf.conv2d(x, w1 as tf.Tensor4D, 2, 'same'), tf.ones([32]), tf.zeros([32])).y, 0.2) as tf.Tensor4D;
          const pooled = tf.maxPool(h, 3, 2, 'same');
          const up = tf.conv2dTranspose(pooled, w2 as tf.Tensor4D, [16, 16, 16, 16], 2, 'same');
          const logits = tf.matMul(tf.reshape(up, [16, 4096]), wd as tf.Tensor2D);
          return tf.mean(tf.square(logits)) as tf.Scalar;
        }, [w1, w2, wd]);
        return [value, ...[w1, w2, wd].map((v) => grads[v.name]!)].map((t) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer)));
      });
    const first = run();
    expect(first.slice(1).every((g) => g.some((bits) => bits !== 0))).toBe(true);
    for (let i = 0; i < 2; i++) expect(run()).toEqual(first);
  });
});

describeEngine(entry, 'libtorch convolution weights', (engine) => {
  const addon = () => torchAddon()!;
  beforeEach(() => tf.setBackend(engine.backend));
  afterEach(() => addon().setConvLayout(0));
  const upload = ({ shape, data }: { shape: number[]; data: Float32Array }) => addon().upload(data, shape, 0);
  // a result of 2 x 6 x 6 x 5 values (an input gradient: 2 x 6 x 6 x 4)
  const read = (h: Handle, n = 2 * 6 * 6 * 5) => {
    const out = new Float32Array(n);
    addon().download(h, out);
    return out;
  };
  // tfjs's geometry of a 3x3 'same' convolution, 4 -> 5 channels, batch 2 of 6 x 6:
  // [n,h,w,c, kh,kw,o, oh,ow, sh,sw, pt,pb,pl,pr, dh,dw]
  const params = [2, 6, 6, 4, 3, 3, 5, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1];
  /** What `fn` makes, and the layout copies (aten::clone) that ran for it. */
  const withCopies = (fn: () => Handle): [Handle, number] => {
    let out: Handle;
    let events: [string, ...number[]][];
    addon().startAtenProfile();
    try {
      out = fn();
      addon().sync();
    } finally {
      events = addon().stopAtenProfile();
    }
    return [out, events.filter(([name]) => name === 'aten::clone').length];
  };

  test("a filter's OIHW copy is made by the first convolution that takes it and kept with its handle, for the forward and the input gradient; a new layout or an in-place change makes it anew", () => {
    const wSpec = rand([3, 3, 4, 5], 2);
    const [x, dy, w, sameW] = [rand([2, 6, 6, 4], 1), rand([2, 6, 6, 5], 3), wSpec, wSpec].map(upload) as [Handle, Handle, Handle, Handle];
    const [y1, first] = withCopies(() => addon().conv2d(x, w, params, null));
    const [y2, again] = withCopies(() => addon().conv2d(x, w, params, null));
    expect([first, again]).toEqual([1, 0]);
    expect(read(y2)).toEqual(read(y1));
    // the input gradient takes the kept copy; through a new handle of the same values, its own
    const [dx, kept] = withCopies(() => addon().conv2dBackpropInput(dy, w, params));
    const [dxFresh, fresh] = withCopies(() => addon().conv2dBackpropInput(dy, sameW, params));
    expect([kept, fresh]).toEqual([0, 1]);
    expect(read(dx, 2 * 6 * 6 * 4)).toEqual(read(dxFresh, 2 * 6 * 6 * 4));
    // a convolution in the other layout keeps a copy in that layout; back in channels-last, the
    // next one copies the filter again
    addon().setConvLayout(1);
    const yNchw = addon().conv2d(x, w, params, null);
    addon().setConvLayout(0);
    const [y3, relaid] = withCopies(() => addon().conv2d(x, w, params, null));
    expect(relaid).toBe(1);
    expect(read(y3)).toEqual(read(y1));
    // changed in place, the filter is copied again: the result is the changed filter's
    const one = addon().upload(Float32Array.of(1), [1], 0);
    addon().binaryInPlace(addon().opCodes().binary.Add!, w, one);
    const plusOne = upload({ shape: wSpec.shape, data: wSpec.data.map((v) => Math.fround(v + 1)) });
    const [yChanged, changed] = withCopies(() => addon().conv2d(x, w, params, null));
    const yPlusOne = addon().conv2d(x, plusOne, params, null);
    expect(changed).toBe(1);
    expect(read(yChanged)).toEqual(read(yPlusOne));
    expect(read(yChanged)).not.toEqual(read(y1));
    for (const h of [x, dy, w, sameW, y1, y2, dx, dxFresh, yNchw, y3, one, plusOne, yChanged, yPlusOne]) addon().free(h);
  });
});

describe('the BLAS that libtorch multiplies through', () => {
  test("referenceBlas names Debian's reference BLAS among library files, not OpenBLAS's libblas.so.3 or other libraries", () => {
    const reference = '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0';
    const openBlas = '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3';
    expect(referenceBlas([openBlas, reference])).toBe(reference);
    expect(referenceBlas([openBlas, '', '/usr/lib/x86_64-linux-gnu/blas/libcblas.so.3', '/usr/lib/x86_64-linux-gnu/liblapack.so.3'])).toBeUndefined();
  });

  describeEngine(entry, 'on the engine', () => {
    test("info's blas is a library this process has mapped (links resolved), and the engine line warns on the CPU where it is the reference BLAS", () => {
      const { blas, device } = torchAddon()!.info();
      if (blas !== '') {
        expect(fs.realpathSync(blas)).toBe(blas);
        const mapped = fs
          .readFileSync('/proc/self/maps', 'utf8')
          .split('\n')
          .map((line) => line.split(/\s+/)[5]);
        expect(mapped).toContain(blas);
      }
      const result = loadTorchBackend();
      expect(result.ok && result.detail.includes('the reference BLAS')).toBe(device === 'cpu' && referenceBlas([blas]) !== undefined);
    });
  });
});

describe('engine order', () => {
  test('without a CUDA device libtorch is passed over with its reason (the native engine stays the default)', async () => {
    if (cudaDeviceVisible()) return; // a GPU machine picks libtorch: checked by tools/device/gpu-check.sh
    const info = await setupEngine({ engine: undefined });
    const torch = info.skipped.find((s) => s.engine === 'libtorch');
    expect(info.engine).not.toBe('libtorch');
    expect(torch?.reason).toMatch(/no CUDA device visible|not built|disabled/);
  });
});
