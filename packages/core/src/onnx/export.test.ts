import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { setupEngine } from '../engine/engine';
import { BatchNorm2d } from '../layers/batch-norm';
import { Rng } from '../rng';
import { onnxRelativeError } from './compare';
import { exportOnnx, toOnnxBytes } from './export';
import { registerOnnxConverter } from './layers';
import { OnnxModel } from './runtime';
import { permute } from './values';

let dir: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'core-onnx-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Non-trivial weights (biases, BN statistics) from a seeded RNG. */
function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  model.setWeights(
    model.weights.map((w) => {
      const n = w.shape.reduce((a, b) => (a as number) * (b as number), 1) as number;
      const values = /variance|running_var/.test(w.originalName) ? rng.uniformArray(n, 0.5, 1.5) : rng.normalArray(n, 0.5);
      return tf.tensor(values, w.shape as number[]);
    }),
  );
}

function randomInput(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(new Rng(seed).normalArray(n), shape);
}

const TOL = 1e-4;

test('permute moves elements to their transposed positions', () => {
  // [2, 3] -> [3, 2]
  const { data, dims } = permute(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]);
  expect(dims).toEqual([3, 2]);
  expect(Array.from(data)).toEqual([1, 4, 2, 5, 3, 6]);
});

test('the written file is an opset-17 ONNX model with NHWC input and output shapes', () => {
  const m = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, name: 'c' })] });
  const proto = onnx.ModelProto.decode(toOnnxBytes(m, { inputNames: ['image'], outputNames: ['out'] }));
  expect(String(proto.opsetImport[0]?.version)).toBe('17');
  const dims = (v: onnx.IValueInfoProto) => v.type?.tensorType?.shape?.dim?.map((d) => (d.dimParam ? d.dimParam : Number(String(d.dimValue))));
  expect(proto.graph?.input?.[0]?.name).toBe('image');
  expect(dims(proto.graph?.input?.[0] as onnx.IValueInfoProto)).toEqual(['batch', 6, 6, 2]);
  expect(proto.graph?.output?.[0]?.name).toBe('out');
  expect(dims(proto.graph?.output?.[0] as onnx.IValueInfoProto)).toEqual(['batch', 4, 4, 3]);
});

test('digit classifier: Conv2D, MaxPooling2D, Flatten, Dense, Dropout, softmax', async () => {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 4, kernelSize: 5, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', dilationRate: 1 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 7, activation: 'relu' }));
  m.add(tf.layers.dropout({ rate: 0.5 }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  randomizeWeights(m, 1);
  expect(await onnxRelativeError(m, [randomInput([3, 12, 12, 3], 2)])).toBeLessThan(TOL);
});

test('padding "same" with odd sizes, strides and dilation; average and max pooling "same"', async () => {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [9, 7, 2], filters: 3, kernelSize: [4, 3], strides: [2, 3], padding: 'same' }));
  m.add(tf.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }));
  m.add(tf.layers.averagePooling2d({ poolSize: [2, 1], padding: 'valid' }));
  randomizeWeights(m, 3);
  expect(await onnxRelativeError(m, [randomInput([2, 9, 7, 2], 4)])).toBeLessThan(TOL);
});

test('DCGAN generator: Dense, Reshape, BatchNormalization, Conv2DTranspose (same and valid), ReLU, tanh', async () => {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [6], units: 2 * 2 * 8, useBias: false }));
  m.add(tf.layers.reshape({ targetShape: [2, 2, 8] }));
  m.add(tf.layers.batchNormalization({ epsilon: 1e-5 }));
  m.add(tf.layers.reLU());
  m.add(tf.layers.conv2dTranspose({ filters: 6, kernelSize: 4, strides: 2, padding: 'same', useBias: false }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.leakyReLU({ alpha: 0.2 }));
  m.add(tf.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid' }));
  m.add(tf.layers.conv2dTranspose({ filters: 3, kernelSize: 1, strides: 2, padding: 'valid' }));
  m.add(tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 1, padding: 'same', activation: 'tanh' }));
  randomizeWeights(m, 5);
  expect(await onnxRelativeError(m, [randomInput([3, 6], 6)])).toBeLessThan(TOL);
});

test('DCGAN discriminator and PyTorch-style BatchNorm2d (DlcvBatchNorm2d), ReLU with maxValue, sigmoid', async () => {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 4, kernelSize: 4, strides: 2, padding: 'same', useBias: false }));
  m.add(tf.layers.leakyReLU({ alpha: 0.2 }));
  m.add(new BatchNorm2d({ numFeatures: 4, eps: 1e-5 }));
  m.add(tf.layers.conv2d({ filters: 8, kernelSize: 4, strides: 2, padding: 'same' }));
  m.add(tf.layers.reLU({ maxValue: 0.5 }));
  m.add(tf.layers.conv2d({ filters: 1, kernelSize: 4, padding: 'valid' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.activation({ activation: 'sigmoid' }));
  randomizeWeights(m, 7);
  expect(await onnxRelativeError(m, [randomInput([2, 16, 16, 3], 8)])).toBeLessThan(TOL);
});

test('every activation, on vectors and on feature maps', async () => {
  const names = ['relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'logSoftmax', 'elu', 'selu', 'softplus', 'softsign', 'hardSigmoid', 'swish', 'mish', 'gelu', 'gelu_new', 'linear'];
  const x = tf.input({ shape: [5, 5, 3] });
  const v = tf.input({ shape: [4] });
  const outs: tf.SymbolicTensor[] = [];
  for (const a of names) {
    outs.push(tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: a as 'relu' }).apply(x) as tf.SymbolicTensor);
    outs.push(tf.layers.dense({ units: 3, activation: a as 'relu' }).apply(v) as tf.SymbolicTensor);
  }
  outs.push(tf.layers.softmax({ axis: -1 }).apply(tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(x)) as tf.SymbolicTensor);
  outs.push(tf.layers.elu({}).apply(v) as tf.SymbolicTensor);
  const m = tf.model({ inputs: [x, v], outputs: outs });
  randomizeWeights(m, 9);
  expect(await onnxRelativeError(m, [randomInput([2, 5, 5, 3], 10).mul(2), randomInput([2, 4], 11).mul(2)])).toBeLessThan(TOL);
});

test('functional U-Net piece: Concatenate, Add, Multiply, UpSampling2D, GlobalAveragePooling2D, nested model', async () => {
  const img = tf.input({ shape: [8, 8, 2], name: 'img' });
  const cls = tf.input({ shape: [10], name: 'onehot' });
  const emb = tf.layers.dense({ units: 4, activation: 'gelu' }).apply(cls) as tf.SymbolicTensor;
  const embMap = tf.layers.reshape({ targetShape: [1, 1, 4] }).apply(emb) as tf.SymbolicTensor;
  const h = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(img) as tf.SymbolicTensor;
  const film = tf.layers.multiply().apply([h, embMap]) as tf.SymbolicTensor;
  const res = tf.layers.add().apply([film, h]) as tf.SymbolicTensor;
  const down = tf.layers.maxPooling2d({ poolSize: 2 }).apply(res) as tf.SymbolicTensor;
  const inner = tf.sequential({
    name: 'inner',
    layers: [tf.layers.conv2d({ inputShape: [4, 4, 4], filters: 4, kernelSize: 3, padding: 'same', activation: 'swish' }), tf.layers.upSampling2d({ size: [2, 2] })],
  });
  const up = inner.apply(down) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ axis: -1 }).apply([up, res]) as tf.SymbolicTensor;
  const catH = tf.layers.concatenate({ axis: 2 }).apply([up, res]) as tf.SymbolicTensor;
  const out = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'eps' }).apply(cat) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(catH) as tf.SymbolicTensor;
  const avg = tf.layers.average().apply([out, tf.layers.upSampling2d({ size: [1, 1], interpolation: 'bilinear' }).apply(out) as tf.SymbolicTensor]) as tf.SymbolicTensor;
  const m = tf.model({ inputs: [img, cls], outputs: [out, pooled, avg] });
  randomizeWeights(m, 12);
  const onehot = tf.oneHot(tf.tensor1d([3, 7], 'int32'), 10).toFloat();
  expect(await onnxRelativeError(m, [randomInput([2, 8, 8, 2], 13), onehot])).toBeLessThan(TOL);
});

test('Embedding on integer input, Permute, ZeroPadding2D, GlobalMaxPooling2D', async () => {
  const ids = tf.input({ shape: [3], dtype: 'int32', name: 'ids' });
  const e = tf.layers.embedding({ inputDim: 10, outputDim: 4 }).apply(ids) as tf.SymbolicTensor;
  const p = tf.layers.permute({ dims: [2, 1] }).apply(e) as tf.SymbolicTensor;
  const m1 = tf.model({ inputs: ids, outputs: p });
  randomizeWeights(m1, 16);
  expect(
    await onnxRelativeError(m1, [
      tf.tensor2d(
        [
          [1, 9, 0],
          [4, 4, 2],
        ],
        [2, 3],
        'int32',
      ),
    ]),
  ).toBeLessThan(TOL);

  const m2 = tf.sequential();
  m2.add(
    tf.layers.zeroPadding2d({
      inputShape: [4, 5, 2],
      padding: [
        [1, 2],
        [0, 3],
      ],
    }),
  );
  m2.add(tf.layers.conv2d({ filters: 2, kernelSize: 2 }));
  m2.add(tf.layers.globalMaxPooling2d({}));
  randomizeWeights(m2, 17);
  expect(await onnxRelativeError(m2, [randomInput([2, 4, 5, 2], 18)])).toBeLessThan(TOL);
});

test('extra outputs expose inner layers (penultimate features)', async () => {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [5], units: 6, activation: 'relu', name: 'fc1' }));
  m.add(tf.layers.dense({ units: 3, name: 'fc2' }));
  randomizeWeights(m, 19);
  const file = path.join(dir, 'extra.onnx');
  await exportOnnx(m, file, { inputNames: ['x'], outputNames: ['logits'], extraOutputs: { features: 'fc1' } });
  const session = await OnnxModel.load(file);
  expect(session.outputNames).toEqual(['logits', 'features']);
  const x = randomInput([2, 5], 20);
  const out = await session.run({ x: { data: x.dataSync() as Float32Array, dims: [2, 5] } });
  const fc1 = m.layers[0] as tf.layers.Layer;
  const want = (fc1.apply(x) as tf.Tensor).dataSync();
  Array.from(out.features?.data ?? []).forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 5));
  await expect(session.run({ x: { data: new Float32Array(6), dims: [2, 3] } })).rejects.toThrow(/input "x" wants shape \[batch, 5\], got \[2, 3\]/);
  await session.dispose();
});

test('clear errors: unsupported layer, channelsFirst, unknown extra output, missing or bad file', async () => {
  const lambda = tf.sequential({ layers: [tf.layers.repeatVector({ inputShape: [3], n: 2 })] });
  expect(() => toOnnxBytes(lambda)).toThrow(/class RepeatVector has no ONNX conversion/);
  const cf = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [2, 6, 6], filters: 1, kernelSize: 3, dataFormat: 'channelsFirst' })] });
  expect(() => toOnnxBytes(cf)).toThrow(/only channelsLast/);
  const d = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
  expect(() => toOnnxBytes(d, { extraOutputs: { f: 'nope' } })).toThrow(/no layer "nope"/);
  await expect(OnnxModel.load(path.join(dir, 'missing.onnx'))).rejects.toThrow(/missing\.onnx: ONNX file not found/);
  const junk = path.join(dir, 'junk.onnx');
  await fs.writeFile(junk, 'not a model');
  await expect(OnnxModel.load(junk)).rejects.toThrow(/junk\.onnx: not a loadable ONNX model/);
});

/** x * 2 in tfjs, exported (wrongly, on purpose) as the identity. */
class Doubler extends tf.layers.Layer {
  static className = 'TestDoubler';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs, 2);
  }
}
registerOnnxConverter(Doubler.className, (args) => args.inputs);

test('onnxRelativeError sees a converter that disagrees with its layer, and refuses an all-zero output', async () => {
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 4 }), new Doubler({})] });
  randomizeWeights(m, 21);
  // ONNX gives y, tfjs 2y: |y - 2y| / |2y| = 0.5 everywhere.
  expect(await onnxRelativeError(m, [randomInput([2, 3], 22)])).toBeCloseTo(0.5, 5);
  const zero = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, kernelInitializer: 'zeros' })] });
  await expect(onnxRelativeError(zero, [randomInput([2, 3], 23)])).rejects.toThrow(/output 0 is all zeros in tfjs/);
});
