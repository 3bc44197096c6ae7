import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BatchNorm2d, Gelu, Rng, setupEngine } from '@dlcv/core';
import { onnx } from 'onnx-proto';
import { ContextMask, Film, GroupNorm, ScaledAdd } from '../test-utils/project-layers';
import { exportOnnx, toOnnxBytes } from './export';
import { OnnxModel } from './runtime';
import { permute } from './values';

let dir: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'eval-onnx-'));
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

/** max |ort - tfjs| / max |tfjs| over every output. */
async function relativeError(model: tf.LayersModel, inputs: tf.Tensor[], file: string): Promise<number> {
  await exportOnnx(model, file);
  const session = await OnnxModel.load(file);
  try {
    const expected = model.predict(inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs);
    const want = Array.isArray(expected) ? expected : [expected];
    const got = await session.predict(inputs);
    expect(got).toHaveLength(want.length);
    let worst = 0;
    for (let i = 0; i < want.length; i++) {
      const w = want[i] as tf.Tensor, o = got[i] as tf.Tensor;
      expect(o.shape).toEqual(w.shape);
      const a = w.dataSync(), b = o.dataSync();
      let maxAbs = 0, maxDiff = 0;
      for (let k = 0; k < a.length; k++) {
        maxAbs = Math.max(maxAbs, Math.abs(a[k] as number));
        maxDiff = Math.max(maxDiff, Math.abs((a[k] as number) - (b[k] as number)));
      }
      expect(maxAbs).toBeGreaterThan(0);
      worst = Math.max(worst, maxDiff / maxAbs);
    }
    tf.dispose([...want, ...got]);
    return worst;
  } finally {
    await session.dispose();
  }
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
  expect(await relativeError(m, [randomInput([3, 12, 12, 3], 2)], path.join(dir, 'cls.onnx'))).toBeLessThan(TOL);
});

test('padding "same" with odd sizes, strides and dilation; average and max pooling "same"', async () => {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [9, 7, 2], filters: 3, kernelSize: [4, 3], strides: [2, 3], padding: 'same' }));
  m.add(tf.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }));
  m.add(tf.layers.averagePooling2d({ poolSize: [2, 1], padding: 'valid' }));
  randomizeWeights(m, 3);
  expect(await relativeError(m, [randomInput([2, 9, 7, 2], 4)], path.join(dir, 'pad.onnx'))).toBeLessThan(TOL);
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
  expect(await relativeError(m, [randomInput([3, 6], 6)], path.join(dir, 'gen.onnx'))).toBeLessThan(TOL);
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
  expect(await relativeError(m, [randomInput([2, 16, 16, 3], 8)], path.join(dir, 'disc.onnx'))).toBeLessThan(TOL);
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
  expect(await relativeError(m, [randomInput([2, 5, 5, 3], 10).mul(2), randomInput([2, 4], 11).mul(2)], path.join(dir, 'act.onnx'))).toBeLessThan(TOL);
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
  expect(await relativeError(m, [randomInput([2, 8, 8, 2], 13), onehot], path.join(dir, 'unet.onnx'))).toBeLessThan(TOL);
});

test('the ddpm U-Net layers: GroupNorm, ContextMask, Film, ScaledAdd, Gelu, Conv2DTranspose k=s, AveragePooling2D', async () => {
  const x = tf.input({ shape: [8, 8, 3], name: 'x' });
  const t = tf.input({ shape: [1], name: 't' });
  const c = tf.input({ shape: [10], name: 'c' });
  const mask = tf.input({ shape: [1], name: 'context_mask' });
  const h = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(x) as tf.SymbolicTensor;
  const gn = new GroupNorm({ groups: 4 }).apply(h) as tf.SymbolicTensor;
  const cm = new ContextMask({}).apply([c, mask]) as tf.SymbolicTensor;
  const scale = new Gelu().apply(tf.layers.dense({ units: 8 }).apply(cm)) as tf.SymbolicTensor;
  const shift = tf.layers.dense({ units: 8, activation: 'gelu' }).apply(t) as tf.SymbolicTensor;
  const f = new Film({}).apply([gn, scale, shift]) as tf.SymbolicTensor;
  const sum = new ScaledAdd({ scale: 1 / 1.414 }).apply([f, h]) as tf.SymbolicTensor;
  const vec = tf.layers.averagePooling2d({ poolSize: 4 }).apply(tf.layers.maxPooling2d({ poolSize: 2 }).apply(sum)) as tf.SymbolicTensor;
  const up = tf.layers.conv2dTranspose({ filters: 4, kernelSize: 4, strides: 4, padding: 'valid' }).apply(vec) as tf.SymbolicTensor;
  const out = tf.layers.conv2dTranspose({ filters: 3, kernelSize: 2, strides: 2, padding: 'valid' }).apply(up) as tf.SymbolicTensor;
  const m = tf.model({ inputs: [x, t, c, mask], outputs: out });
  randomizeWeights(m, 14);
  const onehot = tf.oneHot(tf.tensor1d([1, 9], 'int32'), 10).toFloat();
  const inputs = [randomInput([2, 8, 8, 3], 15), tf.tensor2d([[0.25], [0.9]]), onehot, tf.tensor2d([[0], [1]])];
  expect(await relativeError(m, inputs, path.join(dir, 'ddpm.onnx'))).toBeLessThan(TOL);
});

test('GroupNorm test layer matches a hand computation (so the reference above means something)', () => {
  // One sample, 1x2 pixels, 4 channels, 2 groups: group 0 = channels 0,1; group 1 = channels 2,3.
  const x = tf.tensor4d([1, 2, 10, 20, 3, 4, 30, 40], [1, 1, 2, 4]);
  const layer = new GroupNorm({ groups: 2, epsilon: 0 });
  const y = Array.from((layer.apply(x) as tf.Tensor).dataSync());
  // group 0 values 1,2,3,4: mean 2.5, var 1.25; group 1 values 10,20,30,40: mean 25, var 125.
  const s0 = Math.sqrt(1.25), s1 = Math.sqrt(125);
  const want = [(1 - 2.5) / s0, (2 - 2.5) / s0, (10 - 25) / s1, (20 - 25) / s1, (3 - 2.5) / s0, (4 - 2.5) / s0, (30 - 25) / s1, (40 - 25) / s1];
  y.forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 5));
});

test('Embedding on integer input, Permute, ZeroPadding2D, GlobalMaxPooling2D', async () => {
  const ids = tf.input({ shape: [3], dtype: 'int32', name: 'ids' });
  const e = tf.layers.embedding({ inputDim: 10, outputDim: 4 }).apply(ids) as tf.SymbolicTensor;
  const p = tf.layers.permute({ dims: [2, 1] }).apply(e) as tf.SymbolicTensor;
  const m1 = tf.model({ inputs: ids, outputs: p });
  randomizeWeights(m1, 16);
  expect(await relativeError(m1, [tf.tensor2d([[1, 9, 0], [4, 4, 2]], [2, 3], 'int32')], path.join(dir, 'emb.onnx'))).toBeLessThan(TOL);

  const m2 = tf.sequential();
  m2.add(tf.layers.zeroPadding2d({ inputShape: [4, 5, 2], padding: [[1, 2], [0, 3]] }));
  m2.add(tf.layers.conv2d({ filters: 2, kernelSize: 2 }));
  m2.add(tf.layers.globalMaxPooling2d({}));
  randomizeWeights(m2, 17);
  expect(await relativeError(m2, [randomInput([2, 4, 5, 2], 18)], path.join(dir, 'pad2.onnx'))).toBeLessThan(TOL);
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
