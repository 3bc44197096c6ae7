import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupEngine } from './engine/engine';
import { z } from './json-file';
import { loadModelWeights, ModelFolderError, readModelConfig, readModelFile, saveModelFolder, type ModelFolderKind } from './model-folder';

const kind: ModelFolderKind<{ units: number; note?: string }> = {
  format: 'dlcv-test-model',
  version: 2,
  className: 'TestNet',
  configSchema: z.object({ units: z.number().int().positive(), note: z.string().optional() }),
  writtenBy: 'test train',
};

function net(units: number, seed: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [3], units, kernelInitializer: tf.initializers.randomNormal({ seed }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 1 }) }));
  return m;
}

let tmp: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'dlcv-model-folder-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('model folders', () => {
  it('round-trips the config, the weights of several groups and further files, replacing an old folder', async () => {
    const dir = path.join(tmp, 'ok');
    const a = net(4, 1),
      extra = [tf.variable(tf.tensor1d([1, 2, 3]))];
    await saveModelFolder(dir, kind, { config: { units: 3 }, weights: { net: net(3, 9) } });
    await saveModelFolder(dir, kind, { config: { units: 4, note: 'x' }, weights: { net: a, stats: extra }, files: { 'scheduler_config.json': { steps: 10 } } });
    expect((await fs.readdir(dir)).sort()).toEqual(['config.json', 'scheduler_config.json', 'weights.bin', 'weights.json']);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'))).toEqual({
      _class_name: 'TestNet',
      format: 'dlcv-test-model',
      format_version: 2,
      units: 4,
      note: 'x',
    });
    const config = await readModelConfig(dir, kind);
    expect(config).toEqual({ units: 4, note: 'x' });
    const b = net(config.units, 5),
      stats = [tf.variable(tf.zeros([3]))];
    await loadModelWeights(dir, { net: b, stats });
    a.getWeights().forEach((w, i) => expect(Array.from(b.getWeights()[i]!.dataSync())).toEqual(Array.from(w.dataSync())));
    expect(Array.from(stats[0]!.dataSync())).toEqual([1, 2, 3]);
    expect(await readModelFile(dir, 'scheduler_config.json', z.object({ steps: z.number() }))).toEqual({ steps: 10 });
    expect((await fs.readdir(tmp)).filter((n) => n.includes('.tmp-') || n.includes('.old-'))).toEqual([]);
  });

  it('names the file and the problem: missing, another format or version, a bad field, damaged or mismatched weights', async () => {
    const dir = path.join(tmp, 'bad');
    const configFile = path.join(dir, 'config.json');
    await expect(readModelConfig(dir, kind)).rejects.toThrow(`${configFile}: not found (is this a model folder written by \`test train\`?)`);
    await saveModelFolder(dir, kind, { config: { units: 2 }, weights: { net: net(2, 1) } });
    const original = await fs.readFile(configFile, 'utf8');
    const edit = async (change: Record<string, unknown>) => fs.writeFile(configFile, JSON.stringify({ ...JSON.parse(original), ...change }));
    await edit({ format: 'other' });
    await expect(readModelConfig(dir, kind)).rejects.toThrow(`${configFile}: not a dlcv-test-model config (format "other")`);
    await edit({ format_version: 1 });
    await expect(readModelConfig(dir, kind)).rejects.toThrow(`${configFile}: format_version 1; this version reads 2`);
    await edit({ units: -1 });
    await expect(readModelConfig(dir, kind)).rejects.toThrow(new ModelFolderError(configFile, 'units: Too small: expected number to be >0'));
    await expect(loadModelWeights(dir, { net: net(5, 1) })).rejects.toThrow(/weights\.json: "net" weight 0 \(.*\) has shape \[3,2\] in the model folder, \[3,5\] in the model/);
    await expect(loadModelWeights(dir, { other: net(2, 1) })).rejects.toThrow(/weights\.json: has no weights for "other" \(it has: net\)/);
    const bin = path.join(dir, 'weights.bin');
    const bytes = await fs.readFile(bin);
    bytes[0] = (bytes[0] as number) ^ 0xff;
    await fs.writeFile(bin, bytes);
    await expect(loadModelWeights(dir, { net: net(2, 1) })).rejects.toThrow(`${bin}: damaged: its SHA-256 does not match weights.json`);
  });
});
