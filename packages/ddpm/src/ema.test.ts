import * as tf from '@tensorflow/tfjs';

import { Ema } from './ema';

// The shadow after an update, computed on the host in float32: s * d + w * (1 - d), each
// product and the sum rounded to float32 as the tensor ops round them.
function expectedShadow(shadow: Float32Array, weight: Float32Array, d: number): Float32Array {
  const keep = Math.fround(d),
    take = Math.fround(1 - d);
  return shadow.map((s, i) => Math.fround(Math.fround(s * keep) + Math.fround(weight[i]! * take)));
}

describe('Ema', () => {
  test('warm-up decay min(decay, (1 + k) / (10 + k))', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
    const ema = new Ema(model, 0.995);
    expect(ema.decayAt(0)).toBeCloseTo(0.1, 12);
    expect(ema.decayAt(90)).toBeCloseTo(91 / 100, 12);
    expect(ema.decayAt(100000)).toBe(0.995);
    ema.dispose();
    model.dispose();
  });

  test('update averages every trainable weight, bit for bit as float32 host arithmetic', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 4 }), tf.layers.dense({ units: 2 })] });
    const ema = new Ema(model, 0.9);
    const shapes = model.trainableWeights.map((w) => w.shape as number[]);
    const sizes = shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
    let shadow = model.trainableWeights.map((w) => w.read().dataSync() as Float32Array);
    for (const k of [0, 1, 40]) {
      // new weights, as a training step would leave them
      const weights = sizes.map((n, j) => Float32Array.from({ length: n }, (_, i) => Math.sin(7 * k + 3 * j + i) * 2));
      model.setWeights(weights.map((v, j) => tf.tensor(v, shapes[j])));
      ema.update(k);
      shadow = shadow.map((s, j) => expectedShadow(s, weights[j]!, ema.decayAt(k)));
      ema.shadow.forEach((s, j) => {
        expect(s.shape).toEqual(shapes[j]);
        expect(Array.from(new Uint32Array((s.dataSync() as Float32Array).slice().buffer))).toEqual(Array.from(new Uint32Array(shadow[j]!.buffer)));
      });
    }
    ema.dispose();
    model.dispose();
  });

  test('rejects a decay outside [0, 1)', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
    expect(() => new Ema(model, 1)).toThrow(/decay must be in \[0, 1\)/);
    model.dispose();
  });
});
