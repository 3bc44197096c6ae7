import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, MODEL_FILES, Rng, saveCheckpoint, setupEngine } from '@dlcv/core';
import { makeTrainConfig } from './config';
import { createGenerator } from './model';
import { loadGenerator, loadGeneratorFolder, ModelFolderError, PRECISE_STATS, saveGeneratorFolder, type SavedGeneratorInfo } from './model-io';
import { computePreciseStats, generateImages, generateToFolder } from './sampling';
import { fileBytes, SMALL_CALIBRATION, tempDir, TINY } from './test-utils/fixtures';

let tmp: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  tmp = await tempDir('model-io');
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const values = (ts: readonly tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));
const sameImages = (a: { data: Uint8Array }[], b: { data: Uint8Array }[]) =>
  a.length === b.length && a.every((img, i) => Buffer.from(img.data).equals(Buffer.from(b[i]?.data as Uint8Array)));

describe('loading a generator from a run or checkpoint folder', () => {
  let run: string;
  beforeAll(async () => {
    run = path.join(tmp, 'run');
    const g = createGenerator(TINY, new Rng(2));
    const config = makeTrainConfig({ gan: TINY, datasetSize: 8, batchSize: 4, data: 'test' });
    await saveCheckpoint(run, { models: { g, d: [] }, config, state: { step: 3, epoch: 0 } });
    await generateToFolder(g, path.join(tmp, 'original'), { count: 4, seed: 0, nz: TINY.nz, calibration: SMALL_CALIBRATION });
  });

  it('loadGenerator restores the architecture from the config and the weights', async () => {
    const { g, step, gan, model } = await loadGenerator(run);
    expect(step).toBe(3);
    expect(gan).toEqual(TINY);
    expect(model).toBe('custom');
    const files = await generateToFolder(g, path.join(tmp, 'reloaded'), { count: 4, seed: 0, nz: TINY.nz, calibration: SMALL_CALIBRATION });
    expect(await fileBytes(files)).toEqual(await fileBytes((await fs.readdir(path.join(tmp, 'original'))).sort().map((n) => path.join(tmp, 'original', n))));
  });

  it('uses the precise statistics a checkpoint stores, which are what generate would compute', async () => {
    const g = createGenerator(TINY, new Rng(2));
    const stats = await computePreciseStats(g, TINY.nz, SMALL_CALIBRATION);
    const withStats = path.join(tmp, 'run-stats');
    const config = makeTrainConfig({ gan: TINY, datasetSize: 8, batchSize: 4, data: 'test', calibration: SMALL_CALIBRATION });
    await saveCheckpoint(withStats, { models: { g, [PRECISE_STATS]: stats.map((t) => tf.variable(t, false)) }, config, state: { step: 1, epoch: 0 } });
    const loaded = await loadGenerator(withStats);
    expect(values(loaded.preciseStats ?? [])).toEqual(values(stats));
    expect((await loadGenerator(run)).preciseStats).toBeUndefined();
    const stored = await generateImages(loaded.g, { count: 3, seed: 0, nz: TINY.nz, preciseStats: loaded.preciseStats });
    const fresh = await generateImages(g, { count: 3, seed: 0, nz: TINY.nz, calibration: SMALL_CALIBRATION });
    expect(sameImages(stored, fresh)).toBe(true);
  });

  it('names the folder when there is no checkpoint, and the file when it is not a gan run', async () => {
    await expect(loadGenerator(path.join(tmp, 'nothing'))).rejects.toThrow(/nothing: no checkpoint found .*; train one with `dlcv-gan train`/);
    const other = path.join(tmp, 'other-run');
    await saveCheckpoint(other, { models: {}, config: { unet: { nFeat: 8 } }, state: { step: 1, epoch: 0 } });
    const file = path.join(other, 'checkpoints', 'step-00000001', 'checkpoint.json');
    await expect(loadGenerator(other)).rejects.toThrow(CheckpointError);
    await expect(loadGenerator(other)).rejects.toThrow(`${file}: not a dlcv-gan checkpoint (config: model: Invalid input: expected string, received undefined`);
  });
});

describe('the model folder', () => {
  let g: tf.LayersModel;
  let stats: tf.Tensor1D[];
  const info: SavedGeneratorInfo = { model: 'custom', gan: TINY, calibration: SMALL_CALIBRATION, training: { step: 12, epoch: 2, preset: 'report', seed: 3, data: 'fixture' } };
  const save = (dir: string) =>
    saveGeneratorFolder(
      dir,
      g,
      stats.map((t) => tf.variable(t, false)),
      info,
    );
  beforeAll(async () => {
    g = createGenerator(TINY, new Rng(5));
    stats = await computePreciseStats(g, TINY.nz, SMALL_CALIBRATION);
  });

  it('has the fixed file names and reloads to the same generator, statistics and images', async () => {
    const dir = path.join(tmp, 'model');
    await save(dir);
    expect((await fs.readdir(dir)).sort()).toEqual(['config.json', 'weights.bin', 'weights.json']);
    const config = JSON.parse(await fs.readFile(path.join(dir, MODEL_FILES.config), 'utf8'));
    expect(config).toEqual({
      _class_name: 'Generator',
      format: 'dlcv-gan-model',
      format_version: 1,
      model: 'custom',
      ...TINY,
      calibration: SMALL_CALIBRATION,
      training: info.training,
    });
    const loaded = await loadGeneratorFolder(dir);
    expect(loaded).toMatchObject({ model: 'custom', gan: TINY, step: 12, dir });
    expect(values(loaded.g.getWeights())).toEqual(values(g.getWeights()));
    expect(values(loaded.preciseStats ?? [])).toEqual(values(stats));
    // Sampling from the folder: the stored statistics are the ones the calibration noise gives.
    const fromFolder = await generateImages(loaded.g, { count: 3, seed: 4, nz: TINY.nz, preciseStats: loaded.preciseStats });
    const fresh = await generateImages(g, { count: 3, seed: 4, nz: TINY.nz, calibration: SMALL_CALIBRATION });
    expect(sameImages(fromFolder, fresh)).toBe(true);
  });

  it('reports a missing or foreign folder, or a config that does not fit, with the file and the problem', async () => {
    const missing = path.join(tmp, 'no-model');
    await expect(loadGeneratorFolder(missing)).rejects.toThrow(`${path.join(missing, MODEL_FILES.config)}: not found (is this a model folder written by \`dlcv-gan train\`?)`);
    // (A damaged weights.bin is core's check, tested there.)
    const dir = path.join(tmp, 'model-bad');
    await save(dir);
    const file = path.join(dir, MODEL_FILES.config);
    const good = await fs.readFile(file, 'utf8');
    const withConfig = async (text: string) => {
      await fs.writeFile(file, text);
      return loadGeneratorFolder(dir);
    };
    await expect(withConfig(good.replace('"ngf": 2', '"ngf": 0'))).rejects.toThrow(`${file}: ngf: must be a positive integer`);
    await expect(withConfig(good.replace('"channels": 3', '"channels": 2'))).rejects.toThrow(`${file}: channels: must be 1 or 3`);
    await expect(withConfig(good.replace('"step": 12', '"step": "12"'))).rejects.toThrow(`${file}: training.step: Invalid input: expected number, received string`);
    await expect(withConfig(good.replace('"dlcv-gan-model"', '"dlcv-ddpm-model"'))).rejects.toThrow(`${file}: not a dlcv-gan-model config (format "dlcv-ddpm-model")`);
    await expect(withConfig(good.replace('"format_version": 1', '"format_version": 2'))).rejects.toThrow(
      `${file}: format_version 2; this version reads 1 (retrain with \`dlcv-gan train\`)`,
    );
    // A config that does not fit the stored weights: the index is named.
    await expect(withConfig(good.replace('"ngf": 2', '"ngf": 3'))).rejects.toThrow(ModelFolderError);
    await expect(withConfig(good.replace('"ngf": 2', '"ngf": 3'))).rejects.toThrow(`${path.join(dir, MODEL_FILES.index)}: `);
    await fs.writeFile(file, good);
    expect((await loadGeneratorFolder(dir)).gan).toEqual(TINY);
  });
});
