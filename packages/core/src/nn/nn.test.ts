import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '../engine/engine';
import { Rng } from '../rng';
import { countParams, initTorchDefault } from '.';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

describe('initTorchDefault', () => {
  it("draws kernel then bias of each conv, transposed conv and dense layer from the rng with PyTorch's fan-in", () => {
    const input = tf.input({ shape: [6, 6, 3] });
    let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv' }).apply(input) as tf.SymbolicTensor; // Conv2d(3, 4, 3)
    h = tf.layers.batchNormalization({ name: 'bn' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.conv2dTranspose({ filters: 5, kernelSize: 2, strides: 2, name: 'up' }).apply(h) as tf.SymbolicTensor; // ConvTranspose2d(4, 5, 2)
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 7, name: 'fc' }).apply(h) as tf.SymbolicTensor; // Linear(320, 7)
    const model = tf.model({ inputs: input, outputs: out });
    const bnBefore = model
      .getLayer('bn')
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    initTorchDefault(model, new Rng(3, 7));

    // PyTorch: Conv2d fan_in = in * kh * kw; ConvTranspose2d fan_in = weight.size(1) * kh * kw = out * kh * kw; Linear fan_in = in.
    const expected = new Rng(3, 7);
    const draw = (size: number, fanIn: number) => Array.from(expected.uniformArray(size, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)));
    const plan: [string, number, number, number][] = [
      ['conv', 3 * 3 * 3 * 4, 4, 3 * 3 * 3],
      ['up', 2 * 2 * 5 * 4, 5, 5 * 2 * 2],
      ['fc', 320 * 7, 7, 320],
    ];
    for (const [name, kernelSize, biasSize, fanIn] of plan) {
      const [kernel, bias] = model.getLayer(name).getWeights() as [tf.Tensor, tf.Tensor];
      expect(Array.from(kernel.dataSync())).toEqual(draw(kernelSize, fanIn));
      expect(Array.from(bias.dataSync())).toEqual(draw(biasSize, fanIn));
      expect(Math.max(...Array.from(kernel.dataSync()).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
    }
    expect(
      model
        .getLayer('bn')
        .getWeights()
        .map((w) => Array.from(w.dataSync())),
    ).toEqual(bnBefore);
    model.dispose();
  });
});

describe('countParams', () => {
  it('counts trainable parameters and buffers as PyTorch does', () => {
    const model = tf.sequential();
    model.add(tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 6, kernelSize: 5 }));
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 10 }));
    // conv 3*6*25 + 6, BN gamma/beta 12 (+ running mean/var 12), dense 4*4*6*10 + 10
    expect(countParams(model)).toEqual({ trainable: 456 + 12 + 970, nonTrainable: 12 });
    model.dispose();
  });
});
