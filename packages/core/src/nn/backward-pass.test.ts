import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '../engine/engine';
import { backwardPassInfo, setBackwardPass, setGradientRelease, type BackwardPassKind } from './backward-pass';
import { outsideTape } from './tape';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});
afterEach(() => {
  setGradientRelease(true);
  setBackwardPass('dlcv');
});

/** An identity whose gradient records the bytes alive when it runs (placed after the first layer: nearly the last node of the backward walk). */
function probe(record: (bytes: number) => void) {
  return tf.customGrad((x, save) => {
    (save as (ts: tf.Tensor[]) => void)([]);
    return {
      value: tf.clone(x as tf.Tensor),
      gradFunc: (dy) => {
        record(tf.memory().numBytes);
        return tf.clone(dy as tf.Tensor);
      },
    };
  }) as (x: tf.Tensor) => tf.Tensor;
}

/**
 * A small network's loss and the gradients of its weights: convolutions, batch norms (several
 * outputs, some without a gradient), a split and concat, a custom gradient; returns the
 * gradients' values and the bytes alive at the backward walk's last node.
 */
function gradientsOfNet(): { values: Float32Array[]; bytesAtEnd: number } {
  const rng = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5);
  const variable = <R extends tf.Rank>(initial: tf.Tensor<R>, name: string): tf.Variable<R> => {
    const v = tf.variable(initial, true, name);
    initial.dispose();
    return v;
  };
  const w1 = variable(tf.tensor4d(rng(3 * 3 * 3 * 16, 1), [3, 3, 3, 16]), 'release-w1');
  const w2 = variable(tf.tensor4d(rng(3 * 3 * 16 * 16, 2), [3, 3, 16, 16]), 'release-w2');
  const gamma = variable(tf.ones([16]), 'release-gamma');
  const x = tf.tensor4d(rng(8 * 12 * 12 * 3, 3), [8, 12, 12, 3]);
  let bytesAtEnd = 0;
  const atEnd = probe((b) => (bytesAtEnd = b));
  const { value, grads } = tf.variableGrads(() => {
    let h: tf.Tensor = atEnd(tf.conv2d(x, w1, 1, 'same'));
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    h = tf.relu(tf.batchNorm(h, mean, variance, tf.zeros([16]), gamma, 1e-5));
    const [a, b] = tf.split(h, 2, 3);
    h = tf.concat([tf.sigmoid(a!), tf.tanh(b!)], 3);
    h = tf.conv2d(h as tf.Tensor4D, w2, 1, 'same');
    return tf.mean(tf.square(h)) as tf.Scalar;
  }, [w1, w2, gamma]);
  const values = [w1, w2, gamma].map((v) => grads[v.name]!.dataSync() as Float32Array);
  tf.dispose([value, x, ...Object.values(grads), w1, w2, gamma]);
  return { values, bytesAtEnd };
}

describe('gradient release', () => {
  test('installed with the engine; the same gradients, byte for byte, with less memory alive at the end of the backward walk', () => {
    expect(backwardPassInfo()).toMatchObject({ installed: true, kind: 'dlcv', releaseEnabled: true });
    setGradientRelease(false);
    const kept = gradientsOfNet();
    setGradientRelease(true);
    const before = backwardPassInfo().released;
    const released = gradientsOfNet();
    expect(backwardPassInfo().released).toBeGreaterThan(before);
    expect(released.values.map((v) => Buffer.from(v.buffer))).toEqual(kept.values.map((v) => Buffer.from(v.buffer)));
    // the activations and their gradients of the layers above are gone by the first layer's turn
    expect(released.bytesAtEnd).toBeLessThan(kept.bytesAtEnd * 0.6);
  });

  test("the caller's dy, a kept tensor and a pass-through dy that gradients return, and the xs' gradients outlive the pass; nothing leaks", () => {
    const before = tf.memory().numTensors;
    const constant = tf.keep(tf.tensor1d([5, 6]));
    const passThrough = tf.customGrad((x) => ({ value: tf.mul(x as tf.Tensor, 2), gradFunc: (dy) => dy as tf.Tensor })) as (x: tf.Tensor) => tf.Tensor;
    const toConstant = tf.customGrad((x) => ({ value: tf.add(x as tf.Tensor, 1), gradFunc: () => constant })) as (x: tf.Tensor) => tf.Tensor;
    const x = tf.tensor1d([1, 2]);
    const dy = tf.tensor1d([1, 10]);
    const [gx] = tf.grads((t: tf.Tensor) => tf.square(passThrough(toConstant(tf.exp(t)))))([x], dy);
    // d/dt (2 (e^t + 1))^2 through gradients that pass dy and a constant on: e^t * constant
    expect(Array.from(gx!.dataSync())).toEqual(tf.tidy(() => Array.from(tf.mul(tf.exp(x), constant).dataSync())));
    expect(dy.isDisposed || constant.isDisposed).toBe(false);
    expect(Array.from(dy.dataSync())).toEqual([1, 10]);
    expect(Array.from(constant.dataSync())).toEqual([5, 6]);
    tf.dispose([x, dy, gx!, constant]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('higher-order gradients (recorded backward passes) are left as tfjs computes them', () => {
    const x = tf.scalar(2);
    const second = tf.grad(tf.grad((t: tf.Tensor) => tf.pow(t, 3)) as (t: tf.Tensor) => tf.Tensor)(x); // 6 t = 12
    expect(second.dataSync()[0]).toBe(12);
    tf.dispose([x, second]);
  });

  test('a minimize off the tape inside a gradient (the DCGAN step) gives the outer gradient written out', () => {
    const a = tf.variable(tf.scalar(3), true, 'release-a');
    const b = tf.variable(tf.scalar(2), true, 'release-b');
    const opt = tf.train.sgd(0.5);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const h = tf.mul(a, a);
      outsideTape(() => tf.dispose(opt.minimize(() => tf.square(tf.sub(b, h)) as tf.Scalar, true, [b]) ?? []));
      return tf.mul(h, b) as tf.Scalar; // b is 9 by now: d/da (a^2 b) = 2 a b = 54
    }, [a]);
    expect(grads['release-a']!.dataSync()[0]).toBe(54);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});

/**
 * Gradients through a graph with the walk's corner cases: two xs (one a plain tensor), a tensor
 * read by two consumers (summed gradients), an input not computed from the xs, an output of a
 * split that leads nowhere (its gradient is zeros), a branch computed from an x that does not
 * reach y, a batch norm's several outputs.
 */
function branchyGradients(): Float32Array[] {
  const rng = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.cos(seed * 77 + i * 3.7) * 0.8);
  return tf.tidy(() => {
    const x = tf.tensor4d(rng(4 * 6 * 6 * 4, 1), [4, 6, 6, 4]);
    const w = tf.tensor4d(rng(3 * 3 * 4 * 8, 2), [3, 3, 4, 8]);
    const constant = tf.tensor1d(rng(8, 3));
    const scale = tf.tensor1d(rng(8, 4));
    const grads = tf.grads((xIn: tf.Tensor, wIn: tf.Tensor) => {
      const h = tf.conv2d(xIn as tf.Tensor4D, wIn as tf.Tensor4D, 1, 'same');
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      const normed = tf.batchNorm(h, mean, variance, constant, scale);
      const [left] = tf.split(normed, 2, 3);
      tf.exp(xIn); // from an x, leading nowhere
      const twice = tf.add(tf.tanh(left!), tf.mul(left!, constant.slice(0, 4)));
      return tf.sum(tf.mul(twice, twice));
    });
    return grads([x, w]).map((g) => g.dataSync() as Float32Array);
  });
}

/** The bytes `fn` returns and the kernels it runs, by name in order. */
async function valuesAndKernels(fn: () => Float32Array[]): Promise<{ bytes: Buffer[]; kernels: string[] }> {
  let values: Float32Array[] = [];
  const profile = await tf.profile(() => {
    values = fn();
  });
  return { bytes: values.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength)), kernels: profile.kernels.map((k) => k.name) };
}

describe('the backward walk', () => {
  test.each([
    ['a small network', () => gradientsOfNet().values],
    ['a graph of corner cases', branchyGradients],
  ])("%s: the same kernels in the same order but for the saves' Identity copies, and the same gradient bytes as tfjs's own pass, with the release on and off", async (_, fn) => {
    setBackwardPass('tfjs');
    const before = tf.memory().numTensors;
    const tfjs = await valuesAndKernels(fn);
    expect(tf.memory().numTensors).toBe(before);
    setBackwardPass('dlcv');
    for (const release of [false, true]) {
      setGradientRelease(release);
      const ours = await valuesAndKernels(fn);
      // tfjs saves each tensor for a gradient through an Identity kernel; core shares it directly
      const notIdentity = (kernels: string[]) => kernels.filter((k) => k !== 'Identity');
      expect(notIdentity(ours.kernels)).toEqual(notIdentity(tfjs.kernels));
      expect(ours.kernels.length).toBeLessThan(tfjs.kernels.length);
      expect(ours.bytes).toEqual(tfjs.bytes);
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(tfjs.kernels.length).toBeGreaterThan(20);
  });

  test("the same errors as tfjs's pass (a y without a path from x, a y that is no tensor, a dy of another dtype, no xs), leaving the same tensors", () => {
    const engine = tf.engine() as unknown as {
      gradients(f: () => unknown, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
    };
    const x = tf.scalar(2);
    const c = tf.scalar(3);
    const intDy = tf.scalar(1, 'int32');
    const errorsUnder = (which: BackwardPassKind) => {
      setBackwardPass(which);
      const before = tf.memory().numTensors;
      const errors = [
        () => engine.gradients(() => tf.square(c), [x]),
        () => engine.gradients(() => 5, [x]),
        () => engine.gradients(() => tf.square(x), [x], intDy),
        () => engine.gradients(() => tf.square(x), []),
      ].map((call) => {
        try {
          call();
          return 'no error';
        } catch (e) {
          return (e as Error).message;
        }
      });
      const allowed = engine.gradients(() => tf.square(c), [x], undefined, true);
      const results = [allowed.grads.length, allowed.grads[0], allowed.value.dataSync()[0]];
      allowed.value.dispose();
      return { errors, results, left: tf.memory().numTensors - before };
    };
    const tfjs = errorsUnder('tfjs');
    const ours = errorsUnder('dlcv');
    expect(ours).toEqual(tfjs);
    expect(ours.errors).toEqual([
      'Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.',
      'The result y returned by f() must be a tensor.',
      "dy must have 'float32' dtype, but has 'int32'",
      'gradients() received an empty list of xs.',
    ]);
    expect(ours.results).toEqual([1, undefined, 9]);
    tf.dispose([x, c, intDy]);
  });
});
