import * as tf from '@tensorflow/tfjs';
import { countParams, Rng, setupEngine } from '@dlcv/core';
import {
  buildDiscriminator,
  buildGenerator,
  collapseRepr,
  createDiscriminator,
  createGenerator,
  discriminatorLogits,
  MODEL_PRESETS,
  noiseBatch,
  torchRepr,
  type DcganConfig,
} from './model';
import * as report from './test-utils/report-printouts';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

const k4 = 4 * 4;

describe('parameter counts, by hand from the report printout', () => {
  // ConvTranspose2d(in, out, 4x4, bias=False): in*out*16 weights; BatchNorm2d(c): gamma + beta = 2c
  // parameters and running mean + var = 2c buffers.
  it('model A generator: 3,576,704 parameters', () => {
    const conv = 100 * 512 * k4 + 512 * 256 * k4 + 256 * 128 * k4 + 128 * 64 * k4 + 64 * 3 * k4;
    const bn = 2 * (512 + 256 + 128 + 64);
    const counts = countParams(buildGenerator(MODEL_PRESETS.A));
    expect(counts.trainable).toBe(conv + bn);
    expect(counts.trainable).toBe(3576704); // the tutorial's netG, as PyTorch counts it
    expect(counts.nonTrainable).toBe(bn);
  });
  it('model A discriminator: 2,765,568 parameters', () => {
    const conv = 3 * 64 * k4 + 64 * 128 * k4 + 128 * 256 * k4 + 256 * 512 * k4 + 512 * 1 * k4;
    const bn = 2 * (128 + 256 + 512);
    const counts = countParams(buildDiscriminator(MODEL_PRESETS.A));
    expect(counts.trainable).toBe(conv + bn);
    expect(counts.trainable).toBe(2765568);
    expect(counts.nonTrainable).toBe(bn);
  });
  it('model B generator and discriminator (channels doubled)', () => {
    const gConv = 100 * 1024 * k4 + 1024 * 512 * k4 + 512 * 256 * k4 + 256 * 128 * k4 + 128 * 3 * k4;
    const gBn = 2 * (1024 + 512 + 256 + 128);
    const dConv = 3 * 128 * k4 + 128 * 256 * k4 + 256 * 512 * k4 + 512 * 1024 * k4 + 1024 * 1 * k4;
    const dBn = 2 * (256 + 512 + 1024);
    expect(countParams(buildGenerator(MODEL_PRESETS.B))).toEqual({ trainable: gConv + gBn, nonTrainable: gBn });
    expect(countParams(buildDiscriminator(MODEL_PRESETS.B))).toEqual({ trainable: dConv + dBn, nonTrainable: dBn });
  });
});

describe('layer shapes (NHWC, batch omitted)', () => {
  const shapes = (m: tf.LayersModel) => m.layers.map((l) => (l.outputShape as number[]).slice(1));
  it.each(['A', 'B'] as const)('model %s generator: 1x1 noise up to a 64x64x3 image', (name) => {
    const w = MODEL_PRESETS[name].ngf;
    const stage = (s: number, c: number) => [
      [s, s, c],
      [s, s, c],
      [s, s, c],
    ];
    expect(shapes(buildGenerator(MODEL_PRESETS[name]))).toEqual([...stage(4, 8 * w), ...stage(8, 4 * w), ...stage(16, 2 * w), ...stage(32, w), [64, 64, 3], [64, 64, 3]]);
  });
  it.each(['A', 'B'] as const)('model %s discriminator: 64x64x3 down to one probability', (name) => {
    const w = MODEL_PRESETS[name].ndf;
    const stage = (s: number, c: number) => [
      [s, s, c],
      [s, s, c],
      [s, s, c],
    ];
    expect(shapes(buildDiscriminator(MODEL_PRESETS[name]))).toEqual([[32, 32, w], [32, 32, w], ...stage(16, 2 * w), ...stage(8, 4 * w), ...stage(4, 8 * w), [1, 1, 1], [1, 1, 1]]);
  });
  it('weight tensors have the PyTorch sizes in tfjs layout', () => {
    const g = buildGenerator(MODEL_PRESETS.A);
    // conv2dTranspose kernels are [kh, kw, out, in]
    expect(g.layers[0]?.getWeights()[0]?.shape).toEqual([4, 4, 512, 100]);
    expect(g.layers[12]?.getWeights()[0]?.shape).toEqual([4, 4, 3, 64]);
    const d = buildDiscriminator(MODEL_PRESETS.A);
    // conv2d kernels are [kh, kw, in, out]
    expect(d.layers[0]?.getWeights()[0]?.shape).toEqual([4, 4, 3, 64]);
    expect(d.layers[11]?.getWeights()[0]?.shape).toEqual([4, 4, 512, 1]);
  });
});

describe("PyTorch printout matches the report's", () => {
  it('model A', () => {
    expect(collapseRepr(torchRepr(buildGenerator(MODEL_PRESETS.A), 'Generator'))).toBe(report.generatorA);
    expect(collapseRepr(torchRepr(buildDiscriminator(MODEL_PRESETS.A), 'Discriminator'))).toBe(report.discriminatorA);
  });
  it('model B (the report has one stray closing parenthesis)', () => {
    expect(collapseRepr(torchRepr(buildGenerator(MODEL_PRESETS.B), 'Generator'))).toBe(report.generatorB.slice(0, -1));
    expect(collapseRepr(torchRepr(buildDiscriminator(MODEL_PRESETS.B), 'Discriminator'))).toBe(report.discriminatorB.slice(0, -1));
  });
  it('a differently built model does not match', () => {
    const wrong = buildGenerator({ ...MODEL_PRESETS.A, nz: 64 });
    expect(collapseRepr(torchRepr(wrong, 'Generator'))).not.toBe(report.generatorA);
  });
});

describe('DCGAN weight initialisation', () => {
  const small: DcganConfig = { nz: 100, ngf: 16, ndf: 16, channels: 3 };
  const stats = (t: tf.Tensor) => {
    const v = Array.from(t.dataSync() as Float32Array);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    return { mean, std };
  };

  it('draws kernels from N(0, 0.02), gamma from N(1, 0.02), beta 0', () => {
    const g = createGenerator(small, new Rng(1));
    const kernel = g.layers[3]?.getWeights()[0] as tf.Tensor; // 128 -> 64, 131,072 values
    const ks = stats(kernel);
    expect(Math.abs(ks.mean)).toBeLessThan(0.0005);
    expect(ks.std).toBeCloseTo(0.02, 3);
    const [gamma, beta, rm, rv] = g.layers[1]?.getWeights() as tf.Tensor[];
    const gs = stats(gamma as tf.Tensor);
    expect(Math.abs(gs.mean - 1)).toBeLessThan(0.01);
    expect(gs.std).toBeGreaterThan(0.01);
    expect(gs.std).toBeLessThan(0.03);
    expect(Array.from((beta as tf.Tensor).dataSync()).every((x) => x === 0)).toBe(true);
    expect(Array.from((rm as tf.Tensor).dataSync()).every((x) => x === 0)).toBe(true);
    expect(Array.from((rv as tf.Tensor).dataSync()).every((x) => x === 1)).toBe(true);
  });

  it('same seed, same weights; another seed, other weights', () => {
    const a = createDiscriminator(small, new Rng(5))
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    const b = createDiscriminator(small, new Rng(5))
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    const c = createDiscriminator(small, new Rng(6))
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    expect(a).toEqual(b);
    expect(a[0]).not.toEqual(c[0]);
  });
});

describe('forward passes', () => {
  it('full-size model A: G(z) is a 64x64x3 image in (-1, 1) and D maps it to a probability', () => {
    // The one full-size forward of the suite (about 2 s on the pure-JS backend).
    const rng = new Rng(0);
    const g = createGenerator(MODEL_PRESETS.A, rng.fork(1));
    const d = createDiscriminator(MODEL_PRESETS.A, rng.fork(2));
    tf.tidy(() => {
      const x = g.apply(noiseBatch(rng, 2, 100), { training: true }) as tf.Tensor;
      expect(x.shape).toEqual([2, 64, 64, 3]);
      const v = x.dataSync();
      expect(v.every((t) => t > -1 && t < 1)).toBe(true);
      const p = d.apply(x, { training: true }) as tf.Tensor;
      expect(p.shape).toEqual([2, 1, 1, 1]);
      expect(Array.from(p.dataSync()).every((t) => t > 0 && t < 1)).toBe(true);
    });
  });

  it('discriminatorLogits is the pre-sigmoid output of the same network', () => {
    const small: DcganConfig = { nz: 8, ngf: 4, ndf: 4, channels: 3 };
    const d = createDiscriminator(small, new Rng(3));
    const x = tf.tensor4d(new Rng(4).uniformArray(3 * 64 * 64 * 3, -1, 1), [3, 64, 64, 3]);
    const p = (d.apply(x, { training: false }) as tf.Tensor).dataSync();
    const logits = discriminatorLogits(d, x, false).dataSync();
    logits.forEach((l, i) => expect(1 / (1 + Math.exp(-l))).toBeCloseTo(p[i] as number, 6));
  });

  it('noise is drawn from the seeded generator, never tf.randomNormal', () => {
    const a = noiseBatch(new Rng(9, 2), 3, 5).dataSync();
    const expected = new Rng(9, 2).normalArray(15);
    expect(Array.from(a)).toEqual(Array.from(expected));
  });
});
