import * as tf from '@tensorflow/tfjs';
import { Rng, setupEngine, type ImageDataset } from '@dlcv/core';
import { promises as fs } from 'node:fs';
import { reestimateBatchNorm } from './bn-adapt';
import { openDomain, resolveDomain, SCALING, withoutLabels } from './data';
import { DannNet } from './model';
import { makeDigitsRoot, tinyConfig } from './test-utils/fixtures';

let root: string;
let usps: ImageDataset;

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  root = await makeDigitsRoot({ train: 48 });
  usps = withoutLabels(await openDomain(await resolveDomain('usps', { root }), 'train', 8));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const values = (net: DannNet) => Object.fromEntries(Object.entries(net.namedVariables()).map(([k, v]) => [k, Array.from(v.dataSync())]));

describe('reestimateBatchNorm', () => {
  it('sets the first BatchNorm to the target mean of its input, and changes no weight', async () => {
    const net = new DannNet(tinyConfig().net, new Rng(1, 1));
    const before = values(net);
    expect(await reestimateBatchNorm(net, usps, { batchSize: 16, seed: 0 })).toBe(3);
    const after = values(net);
    for (const key of Object.keys(before)) {
      if (!key.includes('running_')) expect(after[key]).toEqual(before[key]);
    }
    // The first BatchNorm sees conv1's output, which no dropout precedes: with equal batches the
    // mean of the batch means is the mean over all 48 images, computed here in one go.
    const v = net.namedVariables();
    const { x } = await usps.getBatch(
      Array.from({ length: usps.length }, (_, i) => i),
      SCALING,
    );
    const expected = tf.tidy(() => tf.add(tf.conv2d(x as tf.Tensor4D, v['fe.conv1.weight'] as tf.Tensor4D, 1, 'same'), v['fe.conv1.bias']!).mean([0, 1, 2]));
    const got = Array.from(v['fe.bn1.running_mean']!.dataSync());
    Array.from(expected.dataSync()).forEach((e, i) => expect(got[i]).toBeCloseTo(e, 4));
    expect(after['fe.bn1.running_mean']).not.toEqual(before['fe.bn1.running_mean']);
    // the domain classifier's BatchNorm is not on the label path: untouched
    expect(after['dc.bn.running_mean']).toEqual(before['dc.bn.running_mean']);
    tf.dispose([x, expected]);
    net.dispose();
  });

  it('is deterministic, and its result does not depend on the starting statistics', async () => {
    const a = new DannNet(tinyConfig().net, new Rng(1, 1));
    const b = new DannNet(tinyConfig().net, new Rng(1, 1));
    b.namedVariables()['fe.bn3.running_var']!.assign(tf.fill([8], 7));
    await reestimateBatchNorm(a, usps, { batchSize: 16, seed: 4 });
    await reestimateBatchNorm(b, usps, { batchSize: 16, seed: 4 });
    expect(values(b)).toEqual(values(a));
    a.dispose();
    b.dispose();
  });

  it('uses the whole set as one batch when it is smaller than a batch', async () => {
    const net = new DannNet(tinyConfig().net, new Rng(1, 1));
    expect(await reestimateBatchNorm(net, usps.subset([0, 1, 2, 3, 4]), { batchSize: 16, seed: 0 })).toBe(1);
    await expect(reestimateBatchNorm(net, usps.subset([0]), { batchSize: 16, seed: 0 })).rejects.toThrow(/BatchNorm needs 2/);
    net.dispose();
  });
});
