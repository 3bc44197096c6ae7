import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '@dlcv/core';
import { loadModelFolder, MODEL_FILES, ModelFolderError, saveModelFolder, type SavedModelInfo } from './model-io';
import { resolveSchedulerConfig } from './schedulers';
import { tempDir } from './test-utils/fixtures';
import { createUnet, type UnetConfig } from './model';

const TINY: UnetConfig = { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 };
const INFO: SavedModelInfo = {
  unet: TINY,
  scheduler: resolveSchedulerConfig({ num_train_timesteps: 50 }),
  sampling: { sampler: 'ddim', steps: 10, w: 2, eta: 0 },
  training: { preset: 'test' },
};

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

const inputs = () => [tf.randomNormal([2, 12, 12, 3], 0, 1, 'float32', 1), tf.tensor2d([[0.1], [0.9]]), tf.oneHot([4, 6], 10).toFloat(), tf.tensor2d([[0], [1]])];

describe('model folder', () => {
  test('has the fixed file names and reloads to the same network, config and scheduler', async () => {
    const dir = path.join(await tempDir('ddpm-model-'), 'model');
    const model = createUnet(TINY, 2);
    await saveModelFolder(dir, model, INFO);
    expect((await fs.readdir(dir)).sort()).toEqual(['config.json', 'scheduler_config.json', 'weights.bin', 'weights.json']);
    const sched = JSON.parse(await fs.readFile(path.join(dir, MODEL_FILES.scheduler), 'utf8'));
    expect(sched).toMatchObject({
      _class_name: 'DDPMScheduler',
      num_train_timesteps: 50,
      beta_start: 1e-4,
      beta_end: 0.02,
      beta_schedule: 'linear',
      prediction_type: 'epsilon',
      timestep_spacing: 'trailing',
    });
    const loaded = await loadModelFolder(dir);
    expect(loaded.unet).toEqual(TINY);
    expect(loaded.sampling).toEqual(INFO.sampling);
    expect(loaded.scheduler).toEqual(INFO.scheduler);
    const x = inputs();
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.model.predict(x) as tf.Tensor).dataSync();
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    model.dispose();
    loaded.model.dispose();
  });

  test('the same weights give byte-identical files, whichever model instance holds them', async () => {
    const root = await tempDir('ddpm-model-');
    const first = createUnet(TINY, 3);
    const second = createUnet(TINY, 3); // a second instance: its tfjs variables carry other name suffixes
    await saveModelFolder(path.join(root, 'a'), first, INFO);
    await saveModelFolder(path.join(root, 'b'), second, INFO);
    for (const f of Object.values(MODEL_FILES)) {
      const [a, b] = await Promise.all([fs.readFile(path.join(root, 'a', f)), fs.readFile(path.join(root, 'b', f))]);
      expect([f, a.equals(b)]).toEqual([f, true]);
    }
    // Saving over an existing folder replaces it.
    await saveModelFolder(path.join(root, 'a'), createUnet(TINY, 4), INFO);
    const [a, b] = await Promise.all([fs.readFile(path.join(root, 'a', MODEL_FILES.weights)), fs.readFile(path.join(root, 'b', MODEL_FILES.weights))]);
    expect(a.equals(b)).toBe(false);
    expect((await fs.readdir(root)).sort()).toEqual(['a', 'b']);
  });

  test('damaged or missing files are reported with the file and the problem', async () => {
    const dir = path.join(await tempDir('ddpm-model-'), 'model');
    await saveModelFolder(dir, createUnet(TINY, 2), INFO);
    const weights = path.join(dir, MODEL_FILES.weights);
    const bytes = await fs.readFile(weights);
    await fs.writeFile(weights, bytes.subarray(0, bytes.length - 8));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${weights}: damaged: its SHA-256 does not match weights.json`);
    await fs.writeFile(weights, bytes);

    const sched = path.join(dir, MODEL_FILES.scheduler);
    await fs.writeFile(sched, '{"beta_schedule": "cosine"}');
    await expect(loadModelFolder(dir)).rejects.toThrow(`${sched}: beta_schedule: Invalid option: expected one of`);
    await fs.rm(sched);
    await expect(loadModelFolder(dir)).rejects.toThrow(ModelFolderError);
    await expect(loadModelFolder(dir)).rejects.toThrow(`${sched}: not found`);

    const config = path.join(dir, MODEL_FILES.config);
    const good = await fs.readFile(config, 'utf8');
    await fs.writeFile(config, '{"format": "dlcv-ddpm-model", "format_version": 2, "n_feat": 12');
    await expect(loadModelFolder(dir)).rejects.toThrow(`${config}: invalid JSON`);
    await fs.writeFile(config, good.replace('"n_feat": 8', '"n_feat": 9'));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${config}: groups: nFeat must be divisible by groups`);
    await fs.writeFile(config, good.replace('"format_version": 2', '"format_version": 1'));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${config}: format_version 1; this version reads 2 (retrain with \`dlcv-ddpm train\`)`);
    await fs.writeFile(config, good.replace('"sampler": "ddim"', '"sampler": "euler"'));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${config}: sampling.sampler: Invalid option`);
  });
});
