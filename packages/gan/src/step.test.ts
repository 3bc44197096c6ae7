import * as tf from '@tensorflow/tfjs';
import { Rng, setRunningStatsDeferral, setupEngine } from '@dlcv/core';
import { createDiscriminator, createGenerator, noiseBatch } from './model';
import { TINY } from './test-utils/fixtures';
import { bceWithLogits, createOptimizers, trainStep, type Gan } from './step';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

const BATCH = 2;
const LR = { lrD: 5e-4, lrG: 5e-3, beta1: 0.5 };

const values = (m: tf.LayersModel) => m.getWeights().map((w) => Float32Array.from(w.dataSync()));

describe('bceWithLogits', () => {
  it('equals -log(sigmoid(x)) for target 1 and -log(1 - sigmoid(x)) for target 0', () => {
    const xs = [-3, -0.5, 0, 0.7, 4];
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const l1 = bceWithLogits(tf.tensor1d(xs), 1).dataSync()[0];
    const l0 = bceWithLogits(tf.tensor1d(xs), 0).dataSync()[0];
    expect(l1).toBeCloseTo(-xs.reduce((s, x) => s + Math.log(sig(x)), 0) / xs.length, 5);
    expect(l0).toBeCloseTo(-xs.reduce((s, x) => s + Math.log(1 - sig(x)), 0) / xs.length, 5);
  });
  it('stays finite where sigmoid saturates in float32 (log(0) for BCE on probabilities)', () => {
    expect(bceWithLogits(tf.tensor1d([100]), 0).dataSync()[0]).toBeCloseTo(100, 4);
    expect(bceWithLogits(tf.tensor1d([-100]), 1).dataSync()[0]).toBeCloseTo(100, 4);
    expect(bceWithLogits(tf.tensor1d([100]), 1).dataSync()[0]).toBeCloseTo(0, 6);
  });
});

describe('one training step', () => {
  let gan: Gan;
  let real: tf.Tensor4D, z: tf.Tensor4D;
  let before: { g: Float32Array[]; d: Float32Array[] };
  let expected: { lossD: number; dReal: number; dFake: number; gRunningMean: Float32Array };
  let result: Awaited<ReturnType<typeof trainStep>>;

  beforeAll(async () => {
    const rng = new Rng(11);
    gan = { g: createGenerator(TINY, rng.fork(1)), d: createDiscriminator(TINY, rng.fork(2)), ...createOptimizers(LR) };
    real = tf.tensor4d(rng.uniformArray(BATCH * 64 * 64 * 3, -1, 1), [BATCH, 64, 64, 3]);
    z = noiseBatch(rng, BATCH, TINY.nz);
    before = { g: values(gan.g), d: values(gan.d) };

    // Independent reference from the sigmoid outputs, computed on copies so no statistic moves.
    const rng2 = new Rng(11);
    const gCopy = createGenerator(TINY, rng2.fork(1));
    const dCopy = createDiscriminator(TINY, rng2.fork(2));
    const fake = gCopy.apply(z, { training: true }) as tf.Tensor;
    const pReal = Array.from((dCopy.apply(real, { training: true }) as tf.Tensor).dataSync());
    const pFake = Array.from((dCopy.apply(fake, { training: true }) as tf.Tensor).dataSync());
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    // First BatchNorm of G sees the first conv-transpose output: its channel means, 0.1 of them.
    const h = gCopy.layers[0]?.apply(z) as tf.Tensor4D;
    const gRunningMean = tf.mul(tf.mean(h, [0, 1, 2]), 0.1).dataSync() as Float32Array;
    expected = {
      lossD: -mean(pReal.map(Math.log)) - mean(pFake.map((p) => Math.log(1 - p))),
      dReal: mean(pReal),
      dFake: mean(pFake),
      gRunningMean,
    };
    result = await trainStep(gan, real, z);
  });

  it('reports losses that are finite and equal BCE on the sigmoid outputs', () => {
    for (const v of Object.values(result)) expect(Number.isFinite(v)).toBe(true);
    expect(result.lossD).toBeCloseTo(expected.lossD, 4);
    expect(result.dReal).toBeCloseTo(expected.dReal, 5);
    expect(result.dFake1).toBeCloseTo(expected.dFake, 5);
    expect(result.lossG).toBeGreaterThan(0);
  });

  it('changes every trainable weight of both networks', () => {
    const changed = (a: Float32Array, b: Float32Array) => a.some((v, i) => v !== b[i]);
    const after = { g: values(gan.g), d: values(gan.d) };
    // getWeights order per BatchNorm: gamma, beta, running mean, running var. Trainable ones:
    for (const [net, model] of [
      ['g', gan.g],
      ['d', gan.d],
    ] as const) {
      model.weights.forEach((w, i) => {
        if (w.trainable) expect([net, w.originalName, changed(before[net][i] as Float32Array, after[net][i] as Float32Array)]).toEqual([net, w.originalName, true]);
      });
    }
  });

  it("moves each weight by about its network's learning rate (Adam's first step is lr * g / |g|)", () => {
    const after = { g: values(gan.g), d: values(gan.d) };
    for (const [net, lr] of [
      ['g', LR.lrG],
      ['d', LR.lrD],
    ] as const) {
      const trainableIdx = (net === 'g' ? gan.g : gan.d).weights.map((w, i) => (w.trainable ? i : -1)).filter((i) => i >= 0);
      const moved = trainableIdx.flatMap((i) => Array.from(before[net][i] as Float32Array, (v, k) => Math.abs((after[net][i] as Float32Array)[k]! - v)));
      moved.sort((a, b) => a - b);
      const med = moved[moved.length >> 1] as number;
      expect(med / lr).toBeGreaterThan(0.95);
      expect(med / lr).toBeLessThan(1.0001);
    }
  });

  it("updates G's running statistics once per step, as PyTorch's single G forward does", () => {
    const rm = gan.g.layers[1]?.getWeights()[2]?.dataSync() as Float32Array;
    rm.forEach((v, i) => expect(v).toBeCloseTo(expected.gRunningMean[i] as number, 5));
  });
});

describe('the running statistics after the step (deferRunningStats)', () => {
  const bits = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(new Uint32Array(Float32Array.from(w.dataSync()).buffer)));

  /** Every weight of G and D after a step from seed 21, with the running statistics deferred or not. */
  async function step(deferred: boolean): Promise<{ g: number[][]; d: number[][] }> {
    setRunningStatsDeferral(deferred);
    try {
      const rng = new Rng(21);
      const gan: Gan = { g: createGenerator(TINY, rng.fork(1)), d: createDiscriminator(TINY, rng.fork(2)), ...createOptimizers(LR) };
      const real = tf.tensor4d(rng.uniformArray(BATCH * 64 * 64 * 3, -1, 1), [BATCH, 64, 64, 3]);
      const z = noiseBatch(rng, BATCH, TINY.nz);
      await trainStep(gan, real, z);
      tf.dispose([real, z]);
      return { g: bits(gan.g), d: bits(gan.d) };
    } finally {
      setRunningStatsDeferral(true);
    }
  }

  it("G's and D's weights and running statistics: the same bits as with each update at its layer's call (D's three passes in order)", async () => {
    const deferred = await step(true);
    expect(deferred).toEqual(await step(false));
  });
});
