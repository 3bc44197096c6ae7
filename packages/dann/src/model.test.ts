import * as tf from '@tensorflow/tfjs';
import { loadExported, Rng, setupEngine } from '@dlcv/core';
import { DannNet, poolThenRelu, REPORT_NET } from './model';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

describe('DannNet', () => {
  it("has the report networks' parameter count and shapes: [n, 28, 28, 1] -> 1024 features, 10 class logits, 1 domain logit", () => {
    // No rng: zero weights (fast); the counts and shapes do not depend on the values.
    const net = new DannNet(REPORT_NET);
    // PyTorch's count for the printed modules, layer by layer:
    const extractor = 1 * 32 * 9 + 32 + 2 * 32 + (32 * 64 * 9 + 64) + 2 * 64 + (3136 * 1024 + 1024) + 2 * 1024;
    const label = 1024 * 50 + 50 + 2 * 50 + (50 * 10 + 10);
    const domain = 1024 * 50 + 50 + 2 * 50 + (50 * 1 + 1);
    expect(net.parameterCount()).toBe(extractor + label + domain);
    expect(net.trainable(false).reduce((n, v) => n + v.size, 0)).toBe(extractor + label);
    // running mean and variance of the five BatchNorms
    expect(net.allVariables().length - net.trainable(true).length).toBe(2 * 5);
    const x = tf.tensor4d(new Rng(1).uniformArray(2 * 28 * 28, -1, 1), [2, 28, 28, 1]);
    const f = net.features(x, { training: false });
    expect(f.shape).toEqual([2, 1024]);
    expect(net.classify(f, { training: false }).shape).toEqual([2, 10]);
    expect(net.domain(f, { training: false }).shape).toEqual([2, 1]);
    net.dispose();
  });

  it('evaluates each image independently of its batch, and trains only with an rng for dropout', async () => {
    const cfg = { ...REPORT_NET, imageSize: 8, conv1: 3, conv2: 4, features: 6, hidden: 5 };
    const net = new DannNet(cfg, new Rng(2));
    const x = tf.tensor4d(new Rng(3).uniformArray(3 * 64, -1, 1), [3, 8, 8, 1]);
    const all = await net.classify(net.features(x, { training: false }), { training: false }).data();
    const one = await net.classify(net.features(tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1]), { training: false }), { training: false }).data();
    Array.from(one).forEach((v, i) => expect(v).toBeCloseTo(all[10 + i] as number, 5));
    expect(() => net.features(x, { training: true })).toThrow(/needs an rng/);
    const a = await net.features(x, { training: true, rng: new Rng(5) }).data();
    const b = await net.features(x, { training: true, rng: new Rng(5) }).data();
    expect(Array.from(a)).toEqual(Array.from(b));
    net.dispose();
  });

  it("pools before its ReLU with the report's values and gradients (ReLU then pool), all-negative windows included", async () => {
    // 8x8x3 values in [-1, 1] shifted down: many 2x2 windows hold only negatives
    const x = tf.tensor4d(new Rng(4).uniformArray(2 * 8 * 8 * 3, -1.5, 0.7), [2, 8, 8, 3]);
    const w = tf.tensor4d(new Rng(5).normalArray(2 * 4 * 4 * 3), [2, 4, 4, 3]);
    const ours = poolThenRelu;
    const report = (v: tf.Tensor4D) => tf.maxPool(tf.relu(v), 2, 2, 'valid');
    const negativeWindows = await tf.sum(tf.cast(tf.lessEqual(tf.maxPool(x, 2, 2, 'valid'), 0), 'int32')).data();
    expect(negativeWindows[0]).toBeGreaterThan(10);
    expect(Array.from(await ours(x).data())).toEqual(Array.from(await report(x).data()));
    // equal values; only the sign of some zeros may differ (0 * a negative upstream gradient)
    const grad = async (f: (v: tf.Tensor4D) => tf.Tensor) =>
      Array.from(
        await tf
          .grad((v: tf.Tensor) => tf.sum(tf.mul(f(v as tf.Tensor4D), w)))(x)
          .data(),
        (g) => g + 0,
      );
    expect(await grad(ours)).toEqual(await grad(report));
  });

  it("draws PyTorch's default init from the rng: U(+-1/sqrt(fan_in)), each layer's weight then bias, in creation order", async () => {
    const cfg = { ...REPORT_NET, imageSize: 8, conv1: 3, conv2: 4, features: 6, hidden: 5 };
    const net = new DannNet(cfg, new Rng(11, 1));
    // The expected draws written out: one uniformArray per tensor, from one generator.
    const rng = new Rng(11, 1);
    const layers: [string, number, number, number][] = [
      ['fe.conv1', 9 * 1 * 3, 3, 9 * 1],
      ['fe.conv2', 9 * 3 * 4, 4, 9 * 3],
      ['fe.fc', 2 * 2 * 4 * 6, 6, 2 * 2 * 4],
      ['lp.fc1', 6 * 5, 5, 6],
      ['lp.fc2', 5 * 10, 10, 5],
      ['dc.fc1', 6 * 5, 5, 6],
      ['dc.fc2', 5 * 1, 1, 5],
    ];
    const byName = new Map(net.trainable(true).map((v) => [v.name.slice(v.name.indexOf('/') + 1), v]));
    for (const [name, weights, biases, fanIn] of layers) {
      const bound = 1 / Math.sqrt(fanIn);
      for (const [part, size] of [
        ['weight', weights],
        ['bias', biases],
      ] as const) {
        const want = Array.from(rng.uniformArray(size, -bound, bound));
        expect([name, part, Array.from(await byName.get(`${name}.${part}`)!.data())]).toEqual([name, part, want]);
      }
    }
    net.dispose();
  });

  it('rejects an image size the two poolings cannot halve twice', () => {
    expect(() => new DannNet({ ...REPORT_NET, imageSize: 30 }, new Rng(0))).toThrow(/multiple of 4/);
  });

  it('inferenceModel is the evaluation path as a LayersModel, and exports to ONNX with the same outputs', async () => {
    const cfg = { ...REPORT_NET, imageSize: 12, conv1: 3, conv2: 4, features: 6, hidden: 5 };
    const net = new DannNet(cfg, new Rng(7));
    // trained-like running statistics (fresh ones are 0 and 1)
    const rng = new Rng(8);
    for (const v of net.allVariables().slice(net.trainable(true).length)) {
      v.assign(
        tf.tensor(
          Float32Array.from(rng.normalArray(v.size), (z) => (v.name.endsWith('running_var') ? 0.5 + Math.abs(z) : z)),
          v.shape,
        ),
      );
    }
    const x = tf.tensor4d(new Rng(9).uniformArray(4 * 144, -1, 1), [4, 12, 12, 1]);
    const f = net.features(x, { training: false });
    for (const head of ['label', 'domain'] as const) {
      const want = await (head === 'label' ? net.classify(f, { training: false }) : net.domain(f, { training: false })).data();
      const model = net.inferenceModel(head);
      const got = await (model.predict(x) as tf.Tensor).data();
      Array.from(got).forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 5));
      try {
        const ort = await loadExported(model);
        const out = Object.values(await ort.run([{ data: (await x.data()) as Float32Array, dims: [4, 12, 12, 1] }]))[0]!;
        await ort.dispose();
        let maxDiff = 0,
          maxAbs = 0;
        Array.from(want).forEach((v, i) => {
          maxDiff = Math.max(maxDiff, Math.abs(v - (out.data[i] as number)));
          maxAbs = Math.max(maxAbs, Math.abs(v));
        });
        expect(out.dims).toEqual(head === 'label' ? [4, 10] : [4, 1]);
        expect(maxAbs).toBeGreaterThan(1e-3);
        expect(maxDiff / maxAbs).toBeLessThan(1e-4);
      } finally {
        model.dispose();
      }
    }
    net.dispose();
  });
});
