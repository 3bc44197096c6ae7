import * as tf from '@tensorflow/tfjs';
import { countParams, Rng, setupEngine } from '@dlcv/core';
import { Film } from './layers/film';
import { GroupNorm } from './layers/group-norm';
import { ScaledAdd } from './layers/scaled-add';
import { guidedSamplingForward } from './guided-forward';
import { buildUnet, createUnet, validateUnetConfig, type UnetConfig } from './model';

const TINY: UnetConfig = { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 };

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

// PyTorch parameter counts: Conv2d/ConvTranspose2d i*o*k*k + o, Linear i*o + o, BatchNorm2d and GroupNorm 2c.
const conv = (i: number, o: number, k: number) => i * o * k * k + o;
const lin = (i: number, o: number) => i * o + o;
const block = (i: number, o: number) => conv(i, o, 3) + 2 * o + conv(o, o, 3) + 2 * o;

describe('ContextUnet', () => {
  test('n_feat 128 has the parameter count of the report printout, module by module', () => {
    // The report's printout, in_channels 3 (MNIST-M):
    const printout = {
      init_conv: conv(3, 128, 3) + 256 + conv(128, 128, 3) + 256,
      down1: conv(128, 128, 3) + 256 + conv(128, 128, 3) + 256,
      down2: conv(128, 256, 3) + 512 + conv(256, 256, 3) + 512,
      timeembed1: lin(1, 256) + lin(256, 256),
      timeembed2: lin(1, 128) + lin(128, 128),
      contextembed1: lin(10, 256) + lin(256, 256),
      contextembed2: lin(10, 128) + lin(128, 128),
      up0: conv(256, 256, 7) + 512,
      up1: conv(512, 128, 2) + 2 * block(128, 128),
      up2: conv(256, 128, 2) + 2 * block(128, 128),
      out: conv(256, 128, 3) + 256 + conv(128, 3, 3),
    };
    const total = Object.values(printout).reduce((a, b) => a + b, 0);
    expect(total).toBe(6_590_211);
    const model = buildUnet({ nFeat: 128, inChannels: 3, nClasses: 10, imageSize: 28, groups: 8 });
    expect(countParams(model).trainable).toBe(total);
    // Module by module, via the PyTorch-style layer names.
    const moduleParams = (prefix: string) =>
      model.trainableWeights.filter((w) => w.originalName.startsWith(`${prefix}.`)).reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
    for (const [name, count] of Object.entries(printout)) expect([name, moduleParams(name)]).toEqual([name, count]);
    model.dispose();
  });

  test('any n_feat matches the PyTorch formula', () => {
    const n = 16;
    const expected =
      block(3, n) +
      block(n, n) +
      block(n, 2 * n) +
      lin(1, 2 * n) +
      lin(2 * n, 2 * n) +
      lin(1, n) +
      lin(n, n) +
      lin(10, 2 * n) +
      lin(2 * n, 2 * n) +
      lin(10, n) +
      lin(n, n) +
      conv(2 * n, 2 * n, 7) +
      4 * n +
      conv(4 * n, n, 2) +
      2 * block(n, n) +
      conv(2 * n, n, 2) +
      2 * block(n, n) +
      conv(2 * n, n, 3) +
      2 * n +
      conv(n, 3, 3);
    const model = buildUnet({ nFeat: n, inChannels: 3, nClasses: 10, imageSize: 28, groups: 8 });
    expect(countParams(model).trainable).toBe(expected);
    expect(model.getLayer('up1.model.0').getWeights()[0]?.shape).toEqual([2, 2, n, 4 * n]);
    expect(model.getLayer('up0.0').getWeights()[0]?.shape).toEqual([7, 7, 2 * n, 2 * n]);
    model.dispose();
  });

  test('maps [B,S,S,C] noisy images, time, class and mask to a [B,S,S,C] noise estimate', () => {
    const model = createUnet(TINY, 0);
    const out = model.predict([tf.zeros([3, 12, 12, 3]), tf.zeros([3, 1]), tf.oneHot([0, 1, 2], 10).toFloat(), tf.zeros([3, 1])]) as tf.Tensor;
    expect(out.shape).toEqual([3, 12, 12, 3]);
    model.dispose();
  });

  test('a mask of 1 removes the class: the output no longer depends on it', async () => {
    const model = createUnet(TINY, 1);
    const x = tf.randomNormal([1, 12, 12, 3], 0, 1, 'float32', 5);
    const t = tf.tensor2d([[0.5]]);
    const run = async (label: number, mask: number) => (model.predict([x, t, tf.oneHot([label], 10).toFloat(), tf.tensor2d([[mask]])]) as tf.Tensor).data();
    expect(Array.from(await run(3, 1))).toEqual(Array.from(await run(7, 1)));
    expect(Array.from(await run(3, 0))).not.toEqual(Array.from(await run(7, 0)));
    model.dispose();
  });

  test('PyTorch default init from our RNG: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in of a ConvTranspose2d from its out channels', () => {
    const a = createUnet({ ...TINY, nFeat: 16 }, 7);
    const bound = (layer: string) => {
      const [k, b] = a.getLayer(layer).getWeights() as tf.Tensor[];
      const values = [...(k as tf.Tensor).dataSync(), ...(b as tf.Tensor).dataSync()];
      return { max: Math.max(...values.map(Math.abs)), mean: values.reduce((s, v) => s + v, 0) / values.length };
    };
    // Conv2d(16, 16, 3): fan_in 144. Many draws: the largest comes within 2% of the bound.
    const c = bound('down1.model.0.conv1.0');
    expect(c.max).toBeLessThanOrEqual(1 / 12);
    expect(c.max).toBeGreaterThan(0.98 / 12);
    // up1.model.0: ConvTranspose2d(64, 16, 2): fan_in = 16 * 4 = 64 (PyTorch's rule), not 64 * 4 = 256 (bound 1/16).
    const u = bound('up1.model.0');
    expect(u.max).toBeLessThanOrEqual(1 / 8);
    expect(u.max).toBeGreaterThan(1 / 16);
    // Linear(1, 32): fan_in 1, so U(-1, 1).
    expect(bound('timeembed1.model.0').max).toBeGreaterThan(0.9);
    // Norm layers start at scale 1, shift 0.
    const [gamma, beta] = a.getLayer('out.1').getWeights() as tf.Tensor[];
    expect(Array.from((gamma as tf.Tensor).dataSync())).toEqual(new Array(16).fill(1));
    expect(Array.from((beta as tf.Tensor).dataSync())).toEqual(new Array(16).fill(0));
    a.dispose();
  });

  test('the same seed gives the same weights, another seed others', () => {
    const flat = (m: tf.LayersModel) => m.getWeights().flatMap((w) => Array.from(w.dataSync()));
    const [a, b, c] = [createUnet(TINY, 3), createUnet(TINY, 3), createUnet(TINY, 4)];
    expect(flat(a)).toEqual(flat(b));
    expect(flat(a)).not.toEqual(flat(c));
    [a, b, c].forEach((m) => m.dispose());
  });

  test('bad configs are refused with the reason', () => {
    expect(() => validateUnetConfig({ ...TINY, imageSize: 30 })).toThrow('unet config: imageSize: Invalid number: must be a multiple of 4');
    expect(() => validateUnetConfig({ ...TINY, nFeat: 12, groups: 8 })).toThrow('unet config: groups: nFeat must be divisible by groups');
  });
});

describe('guidedSamplingForward', () => {
  // B images; the 2B rows' conditions: each image's class, then the same classes dropped
  const B = 3;
  const conditions = () => ({
    t: tf.fill([2 * B, 1], 0.4) as tf.Tensor2D,
    c: tf.oneHot([2, 7, 5, 2, 7, 5], 10).toFloat() as tf.Tensor2D,
    mask: tf.tensor2d([0, 0, 0, 1, 1, 1], [2 * B, 1]),
  });
  // the batch size of each 3x3 convolution's input, in the order the forward runs them
  const convBatches = async (run: () => tf.Tensor) => {
    const info = await tf.profile(() => run());
    return info.kernels.filter((k) => k.name === 'Conv2D' || k.name === 'FusedConv2D').map((k) => (k.inputShapes[0] as number[])[0]);
  };

  test('predicts the [cond, uncond] rows as the model does on [x; x], with the down path run once per image, leaving no tensor', async () => {
    const model = createUnet(TINY, 8);
    const x = tf.randomNormal([B, 12, 12, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const { t, c, mask } = conditions();
    const full = () => model.predict([tf.concat([x, x], 0), t, c, mask]) as tf.Tensor;
    const shared = () => guidedSamplingForward(model, TINY, { x, t, c, mask });
    const [a, b] = [await full().data(), await shared().data()];
    expect(b.length).toBe(2 * B * 12 * 12 * 3);
    // the two halves differ (the class matters), and each row is the full forward's
    expect(Array.from(b.subarray(0, B * 432))).not.toEqual(Array.from(b.subarray(B * 432)));
    b.forEach((v, i) => expect(v).toBeCloseTo(a[i] as number, 5));
    // init_conv, down1 and down2 (six convolutions) on the B images; up1, up2 and out on 2B rows
    expect(await convBatches(full)).toEqual(new Array(16).fill(2 * B));
    expect(await convBatches(shared)).toEqual([...new Array(6).fill(B), ...new Array(10).fill(2 * B)]);
    const before = tf.memory().numTensors;
    shared().dispose();
    expect(tf.memory().numTensors).toBe(before);
    // each intermediate is freed after its last reader, so it holds less at once than the full forward
    const peak = async (run: () => tf.Tensor) => (await tf.profile(() => run())).peakBytes;
    expect(await peak(shared)).toBeLessThan(await peak(full));
    model.dispose();
  });

  test("reads the model's weights as they are at the call", async () => {
    const model = createUnet(TINY, 9);
    const inputs = {
      x: tf.randomNormal([1, 12, 12, 3], 0, 1, 'float32', 4) as tf.Tensor4D,
      t: tf.fill([2, 1], 0.1) as tf.Tensor2D,
      c: tf.oneHot([4, 4], 10).toFloat() as tf.Tensor2D,
      mask: tf.tensor2d([0, 1], [2, 1]),
    };
    const before = await guidedSamplingForward(model, TINY, inputs).data();
    const layer = model.getLayer('init_conv.conv1.0');
    layer.setWeights(layer.getWeights().map((w) => tf.mul(w, 2)));
    const after = await guidedSamplingForward(model, TINY, inputs).data();
    expect(Array.from(after)).not.toEqual(Array.from(before));
    expect(Array.from(after)).toEqual(Array.from(await (model.predict([tf.concat([inputs.x, inputs.x], 0), inputs.t, inputs.c, inputs.mask]) as tf.Tensor).data()));
    model.dispose();
  });

  test('refuses conditions that are not two rows an image, and a model that is not a U-Net of buildUnet, naming the problem', () => {
    const { t, c, mask } = conditions();
    const model = createUnet(TINY, 1);
    expect(() => guidedSamplingForward(model, TINY, { x: tf.zeros([2, 12, 12, 3]) as tf.Tensor4D, t, c, mask })).toThrow(
      'guided sampling: t has 6 rows for 2 images (need two rows an image, [cond, uncond])',
    );
    model.dispose();
    const input = tf.input({ shape: [12, 12, 3] });
    const other = tf.model({ inputs: input, outputs: tf.layers.conv2d({ filters: 3, kernelSize: 1 }).apply(input) as tf.SymbolicTensor, name: 'other' });
    expect(() => guidedSamplingForward(other, TINY, { x: tf.zeros([3, 12, 12, 3]) as tf.Tensor4D, t, c, mask })).toThrow(
      'guided sampling: the model other has no layer init_conv.conv1.0 (not a U-Net of buildUnet)',
    );
  });
});

describe('custom layers', () => {
  test('GroupNorm normalises each group over H, W and its channels (biased variance), then scales per channel', () => {
    const [b, h, w, c, groups] = [2, 2, 3, 4, 2];
    const rng = new Rng(9);
    const x = rng.normalArray(b * h * w * c, 3, 1);
    const layer = new GroupNorm({ groups, epsilon: 1e-5 });
    layer.build([null, h, w, c]);
    const gamma = [1, 2, 0.5, -1],
      beta = [0, 1, -1, 0.25];
    layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta)]);
    const out = (layer.apply(tf.tensor4d(x, [b, h, w, c])) as tf.Tensor).dataSync();
    const per = c / groups;
    for (let n = 0; n < b; n++) {
      for (let g = 0; g < groups; g++) {
        const idx: number[] = [];
        for (let p = 0; p < h * w; p++) for (let k = g * per; k < (g + 1) * per; k++) idx.push((n * h * w + p) * c + k);
        const mean = idx.reduce((s, i) => s + (x[i] as number), 0) / idx.length;
        const variance = idx.reduce((s, i) => s + ((x[i] as number) - mean) ** 2, 0) / idx.length;
        for (const i of idx) {
          const k = i % c;
          expect(out[i]).toBeCloseTo((((x[i] as number) - mean) / Math.sqrt(variance + 1e-5)) * (gamma[k] as number) + (beta[k] as number), 4);
        }
      }
    }
  });

  test('GroupNorm refuses a channel count its groups do not divide', () => {
    expect(() => new GroupNorm({ groups: 3 }).build([null, 2, 2, 8])).toThrow(/8 channels cannot be split into 3 groups/);
  });

  test('Film computes scale * h + shift per channel; ScaledAdd (a + b) * scale', () => {
    const h = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]);
    const out = new Film().apply([
      h,
      tf.tensor2d([
        [2, 3],
        [-1, 0.5],
      ]),
      tf.tensor2d([
        [10, 20],
        [0, 1],
      ]),
    ]) as tf.Tensor;
    expect(Array.from(out.dataSync())).toEqual([12, 26, 16, 32, -5, 4, -7, 5]);
    const sum = new ScaledAdd({ scale: 1 / 1.414 }).apply([tf.tensor1d([1, 2]), tf.tensor1d([0.414, 0.828])]) as tf.Tensor;
    expect(Array.from(sum.dataSync()).map((v) => +v.toFixed(5))).toEqual([1, 2]);
  });
});
