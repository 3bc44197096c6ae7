import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MODEL_FILES, ModelFolderError, Rng, setupEngine } from '@dlcv/core';
import { DannNet, type DannNetConfig } from './model';
import { loadDannModel, saveDannModel } from './model-io';

const TINY: DannNetConfig = { imageSize: 8, inChannels: 1, conv1: 2, conv2: 4, features: 8, hidden: 4, dropout: 0.5, classes: 10 };

let root: string;

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'dann-model-'));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A network with drawn weights and trained-like running statistics (fresh ones are 0 and 1). */
function trainedLike(seed: number): DannNet {
  const net = new DannNet(TINY, new Rng(seed));
  const rng = new Rng(seed, 1);
  for (const v of net.allVariables().slice(net.trainable(true).length)) {
    v.assign(
      tf.tensor(
        Float32Array.from(rng.normalArray(v.size), (z) => (v.name.endsWith('running_var') ? 0.5 + Math.abs(z) : z)),
        v.shape,
      ),
    );
  }
  return net;
}

async function outputs(net: DannNet, x: tf.Tensor4D): Promise<Buffer[]> {
  const f = net.features(x, { training: false });
  const all = [f, net.classify(f, { training: false }), net.domain(f, { training: false })];
  const out = await Promise.all(all.map(async (t) => Buffer.from(((await t.data()) as Float32Array).buffer)));
  tf.dispose(all);
  return out;
}

describe('DANN model folder', () => {
  it('holds the DannNet config and all its variables, and reloads to the same network, from the folder or its run folder', async () => {
    const run = path.join(root, 'run');
    const dir = path.join(run, 'model');
    const net = trainedLike(2);
    await saveDannModel(dir, net, { run: 'mnistm-to-usps-dann', bestEpoch: 3 });
    expect((await fs.readdir(dir)).sort()).toEqual(['config.json', 'weights.bin', 'weights.json']);
    const config = JSON.parse(await fs.readFile(path.join(dir, MODEL_FILES.config), 'utf8')) as Record<string, unknown>;
    expect(config).toEqual({ _class_name: 'DannNet', format: 'dlcv-dann-model', format_version: 1, ...TINY, training: { run: 'mnistm-to-usps-dann', bestEpoch: 3 } });
    const index = JSON.parse(await fs.readFile(path.join(dir, MODEL_FILES.index), 'utf8')) as { tensors: { group: string }[] };
    expect(index.tensors).toHaveLength(net.allVariables().length);

    const x = tf.tensor4d(new Rng(9).uniformArray(3 * 64, -1, 1), [3, 8, 8, 1]);
    const want = await outputs(net, x);
    for (const from of [dir, run]) {
      const loaded = await loadDannModel(from);
      expect(loaded.dir).toBe(dir);
      expect(loaded.net.config).toEqual(TINY);
      expect(loaded.training).toEqual({ run: 'mnistm-to-usps-dann', bestEpoch: 3 });
      const got = await outputs(loaded.net, x);
      got.forEach((b, i) => expect(b.equals(want[i] as Buffer)).toBe(true));
      // every variable, running statistics included, to the bit
      const bytes = async (n: DannNet) => Buffer.concat(await Promise.all(n.allVariables().map(async (v) => Buffer.from(((await v.data()) as Float32Array).buffer))));
      expect((await bytes(loaded.net)).equals(await bytes(net))).toBe(true);
      loaded.net.dispose();
    }
    net.dispose();
    x.dispose();
  });

  it('writes the same config and weight bytes for the same weights, whichever instance holds them', async () => {
    const [a, b] = [trainedLike(4), trainedLike(4)];
    await saveDannModel(path.join(root, 'a'), a);
    await saveDannModel(path.join(root, 'b'), b);
    for (const f of [MODEL_FILES.config, MODEL_FILES.weights, MODEL_FILES.index]) {
      const [x, y] = await Promise.all([fs.readFile(path.join(root, 'a', f)), fs.readFile(path.join(root, 'b', f))]);
      expect([f, x.equals(y)]).toEqual([f, true]);
    }
    a.dispose();
    b.dispose();
  });

  it('reports a missing folder, an unfinished run or a config that does not fit, with the file and the problem', async () => {
    const nowhere = path.join(root, 'nowhere');
    await expect(loadDannModel(nowhere)).rejects.toThrow(`${path.join(nowhere, 'config.json')}: not found (is this a model folder written by \`dlcv-dann train\`?)`);
    // a run folder whose training has not ended: checkpoints, no model/
    const unfinished = path.join(root, 'unfinished');
    await fs.mkdir(path.join(unfinished, 'checkpoints'), { recursive: true });
    const err = await loadDannModel(unfinished).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFolderError);
    expect((err as Error).message).toBe(
      `${path.join(unfinished, 'model', 'config.json')}: not found: the run has no model folder yet (it is written when training ends; finish the run with \`dlcv-dann train --resume\`)`,
    );

    const dir = path.join(root, 'edited');
    const net = trainedLike(5);
    await saveDannModel(dir, net);
    net.dispose();
    const config = path.join(dir, MODEL_FILES.config);
    const good = await fs.readFile(config, 'utf8');
    await fs.writeFile(config, good.replace('"imageSize": 8', '"imageSize": 10'));
    await expect(loadDannModel(dir)).rejects.toThrow(`${config}: imageSize: must be a positive multiple of 4`);
    await fs.writeFile(config, good.replace('"format": "dlcv-dann-model"', '"format": "dlcv-ddpm-model"'));
    await expect(loadDannModel(dir)).rejects.toThrow(`${config}: not a dlcv-dann-model config (format "dlcv-ddpm-model")`);
    await fs.writeFile(config, good.replace('"conv1": 2', '"conv1": 3'));
    await expect(loadDannModel(dir)).rejects.toThrow(`${path.join(dir, MODEL_FILES.index)}: "net" weight 0 (`);
    await fs.writeFile(config, good);
    (await loadDannModel(dir)).net.dispose();
  });
});
