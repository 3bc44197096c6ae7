// Seeded inputs, and the comparison of an engine's forward and gradients with the cpu backend's.
import * as tf from '@tensorflow/tfjs';

import { heldBy } from '../../engine-parity';

/** Largest |got - ref| over largest |ref| allowed by check(). */
export const TOL = 1e-4;

export type Spec = { shape: number[]; data: Float32Array };

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Uniform values in [lo, hi) from a fixed seed. */
export function rand(shape: number[], seed: number, lo = -1, hi = 1): Spec {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * r();
  return { shape, data };
}

/** Runs fn on a backend with fresh tensors for the inputs; returns the outputs' values. */
export function runOn(backend: string, inputs: Spec[], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = inputs.map((s) => tf.tensor(s.data.slice(), s.shape, 'float32'));
    const r = fn(...xs);
    const list = Array.isArray(r) ? r : [r];
    return list.map((t) => Float32Array.from(t.dataSync() as ArrayLike<number>));
  });
}

/**
 * What a run on `backend` leaves behind, measured from now: a function naming the tensors (data
 * ids) and libtorch handles made since and not released, or '' when there are none. A kernel that
 * makes an intermediate tensor and loses it fails so.
 */
export function leftBehind(backend: string): () => string {
  const engineBackend = tf.findBackend(backend)!;
  const before = heldBy(engineBackend);
  return () => {
    const now = heldBy(engineBackend);
    const [d, h] = [now.dataIds - before.dataIds, now.handles - before.handles];
    return d || h ? `${d} data ids and ${h} handles` : '';
  };
}

/** max |a - b| / max |b|; Infinity for differing lengths or any NaN. */
export function relErr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  if (Number.isNaN(num)) return Infinity;
  return num / Math.max(den, 1e-12);
}

/** fn's output followed by the gradients of sum(out * w) w.r.t. all its inputs (w seeded). */
export function withGradients(fn: (...xs: tf.Tensor[]) => tf.Tensor): (...xs: tf.Tensor[]) => tf.Tensor[] {
  return (...xs: tf.Tensor[]) => {
    const y = fn(...xs);
    const g = tf.grads((...ys: tf.Tensor[]) => {
      const o = fn(...ys);
      // weight the output so gradients are not all-ones
      const w = tf.tensor(rand(o.shape, 99).data, o.shape);
      return tf.sum(tf.mul(o, w));
    })(xs);
    return [y, ...g];
  };
}

/**
 * Compares fn's forward and the gradients of sum(out * w) w.r.t. all inputs on `backend` with the
 * cpu backend's.
 */
export function check(backend: string, name: string, inputs: Spec[], fn: (...xs: tf.Tensor[]) => tf.Tensor, opts: { grad?: boolean; tol?: number } = {}): void {
  const tol = opts.tol ?? TOL;
  const wrapped = opts.grad === false ? (...xs: tf.Tensor[]) => [fn(...xs)] : withGradients(fn);
  const ref = runOn('cpu', inputs, wrapped);
  const left = leftBehind(backend);
  const got = runOn(backend, inputs, wrapped);
  const leaked = left();
  if (leaked) throw new Error(`${name}: the run left ${leaked} on ${backend}`);
  ref.forEach((r, i) => {
    const e = relErr(got[i]!, r);
    if (!(e < tol)) throw new Error(`${name}: output ${i === 0 ? 'forward' : `grad ${i - 1}`} rel err ${e}`);
  });
}
