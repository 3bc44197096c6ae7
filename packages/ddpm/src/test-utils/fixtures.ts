/**
 * A tiny digits folder in the homework layout (data/*.png, train.csv), made in a temp folder:
 * class k is a bright vertical bar at column k (plus a little seeded noise) on a dark
 * background, so a model can tell classes apart, and small enough to train in seconds.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, writePng } from '@dlcv/core';
import type { TrainConfig } from '../config';
import { resolveSchedulerConfig } from '../schedulers';

// The folders made below, removed after the test file that made them (each test file loads this
// module afresh, with its own list and hook).
const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

export async function makeDigitsFixture(options: { size?: number; perClass?: number; seed?: number } = {}): Promise<string> {
  const { size = 12, perClass = 4, seed = 1 } = options;
  const root = await tempDir('ddpm-fixture-');
  await fs.mkdir(path.join(root, 'data'));
  const rng = new Rng(seed);
  const rows = ['image_name,label'];
  let n = 0;
  for (let k = 0; k < perClass; k++) {
    for (let label = 0; label < 10; label++) {
      const data = new Uint8Array(size * size * 3);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const on = x === label + 1;
          for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = on ? 220 + rng.int(30) : 10 + rng.int(20);
        }
      }
      const name = `${String(n++).padStart(5, '0')}.png`;
      await writePng(path.join(root, 'data', name), { width: size, height: size, channels: 3, data });
      rows.push(`${name},${label}`);
    }
  }
  await fs.writeFile(path.join(root, 'train.csv'), `${rows.join('\n')}\n`);
  await fs.writeFile(path.join(root, 'val.csv'), `${rows.slice(0, 11).join('\n')}\n`);
  return root;
}

/** A new folder under the system's temp folder, removed after the test file. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * A training configuration small enough for the cpu backend in tests: n_feat 8 on 12x12 images,
 * 50 timesteps, batch 8, 8 steps over 2 epochs (of 40 images), a checkpoint every 3 steps.
 */
export function tinyTrainConfig(over: Partial<TrainConfig> = {}): TrainConfig {
  return {
    preset: 'test',
    unet: { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 },
    scheduler: resolveSchedulerConfig({ num_train_timesteps: 50 }),
    epochs: 2,
    steps: 8,
    batchSize: 8,
    lr: 1e-2,
    pUncond: 0.1,
    emaDecay: 0.9,
    seed: 0,
    saveEvery: 3,
    sampling: { sampler: 'ddim', steps: 5, w: 1, eta: 0 },
    preview: { perClass: 1, sampler: 'ddim', steps: 2, w: 1 },
    ...over,
  };
}
