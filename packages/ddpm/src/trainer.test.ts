import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { findLatestCheckpoint, InputsFailedError, NonFiniteLossError, openDigits, readMetrics, setupEngine, type ImageDataset } from '@dlcv/core';
import { loadModelFolder } from './model-io';
import { makeDigitsFixture, tempDir, tinyTrainConfig } from './test-utils/fixtures';
import { epochOrder, gridDue, learningRateAt, runLength, train, type TrainResult } from './trainer';

// 40 images of 12x12, batch 8: 5 steps per epoch; 8 steps end inside epoch 2. n_feat 8 keeps a
// step near a second on the cpu backend.
const config = tinyTrainConfig;

let data: ImageDataset;
let straightDir: string;
let straight: TrainResult;

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  data = await openDigits(await makeDigitsFixture(), 'train', { size: 12 });
  straightDir = await tempDir('ddpm-train-');
  straight = await train({ runDir: straightDir, config: config(), data, quiet: true });
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Whether file `rel` of run folder `dir` has the straight run's bytes. */
const sameAsStraight = async (dir: string, rel: string) => (await fs.readFile(path.join(dir, rel))).equals(await fs.readFile(path.join(straightDir, rel)));

describe('train', () => {
  test('a tiny configuration learns: the loss falls over 8 steps', () => {
    expect(straight.steps).toBe(8);
    expect(straight.losses).toHaveLength(8);
    // t, eps and the class mask are random per step, so compare the first and last three.
    expect(mean(straight.losses.slice(-3))).toBeLessThan(0.9 * mean(straight.losses.slice(0, 3)));
  });

  test('the run folder holds metrics per step, the loss plot, a grid per epoch, checkpoints and a reloadable model', async () => {
    const { records } = await readMetrics<{ step: number; epoch: number; loss: number; lr: number }>(path.join(straightDir, 'metrics.jsonl'));
    expect(records.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(records.map((r) => r.loss)).toEqual(straight.losses);
    // lr * (1 - epoch / epochs) over ceil(8 / 5) = 2 epochs: 1e-2 in epoch 1, 5e-3 in the partial epoch 2.
    expect(records.map((r) => r.lr)).toEqual([...new Array(5).fill(1e-2), ...new Array(3).fill(5e-3)]);
    expect((await fs.readdir(path.join(straightDir, 'samples'))).sort()).toEqual(['epoch-0001.png', 'epoch-0002.png']);
    expect((await fs.stat(path.join(straightDir, 'loss.png'))).size).toBeGreaterThan(1000);
    expect(await findLatestCheckpoint(straightDir)).toBe(path.join(straightDir, 'checkpoints', 'step-00000008'));
    const loaded = await loadModelFolder(path.join(straightDir, 'model'));
    expect(loaded.unet.nFeat).toBe(8);
    expect(loaded.training).toMatchObject({ preset: 'test', steps: 8, epochs: 2 });
    loaded.model.dispose();
  });

  test('an interrupted and resumed run ends byte-identical to a straight one (same seed, same bytes)', async () => {
    const dir = await tempDir('ddpm-resume-');
    const first = await train({ runDir: dir, config: config(), data, quiet: true, stopAtStep: 5 });
    expect(first).toMatchObject({ steps: 5, stoppedEarly: true, modelDir: undefined });
    // From step 3's checkpoint (saveEvery 3), taken when step 4's draws had already come from the
    // generator, and mid-epoch (batch 3 of 5): the resumed run must re-derive the order and skip what was done.
    await fs.rm(path.join(dir, 'checkpoints', 'step-00000005'), { recursive: true });
    const second = await train({ runDir: dir, config: config(), data, quiet: true, resume: true });
    expect(second.steps).toBe(8);
    expect(second.losses).toEqual(straight.losses);
    for (const rel of [
      'checkpoints/step-00000008/tensors.bin',
      'model/weights.bin',
      'model/weights.json',
      'model/config.json',
      'metrics.jsonl',
      'samples/epoch-0001.png',
      'samples/epoch-0002.png',
    ]) {
      expect([rel, await sameAsStraight(dir, rel)]).toEqual([rel, true]);
    }
  });

  test('noise drawn ahead on a worker gives the same run, and its checkpoints hold the generator where their step left it', async () => {
    const dir = await tempDir('ddpm-ahead-');
    // saveEvery 3: when step 3 is saved, the worker has already drawn step 4's noise
    const first = await train({ runDir: dir, config: config(), data, quiet: true, stopAtStep: 5, drawThreads: 1 });
    expect(first.losses).toEqual(straight.losses.slice(0, 5));
    await fs.rm(path.join(dir, 'checkpoints', 'step-00000005'), { recursive: true });
    const second = await train({ runDir: dir, config: config(), data, quiet: true, resume: true, drawThreads: 3 });
    expect(second.losses).toEqual(straight.losses);
    for (const rel of ['checkpoints/step-00000008/tensors.bin', 'model/weights.bin']) {
      expect([rel, await sameAsStraight(dir, rel)]).toEqual([rel, true]);
    }
  });

  test('preview.every draws fewer grids and changes nothing else; a resumed run may change it', async () => {
    const dir = await tempDir('ddpm-every-');
    const sparse = (every: number) => config({ preview: { ...config().preview, every } });
    // every 1 up to step 5 (the grid of epoch 1), then every 2: epoch 2 (the last) gets one anyway
    await train({ runDir: dir, config: sparse(1), data, quiet: true, stopAtStep: 5 });
    await train({ runDir: dir, config: sparse(2), data, quiet: true, resume: true });
    const every3 = await tempDir('ddpm-every3-');
    await train({ runDir: every3, config: sparse(3), data, quiet: true });
    expect((await fs.readdir(path.join(dir, 'samples'))).sort()).toEqual(['epoch-0001.png', 'epoch-0002.png']);
    expect(await fs.readdir(path.join(every3, 'samples'))).toEqual(['epoch-0002.png']);
    for (const rel of ['checkpoints/step-00000008/tensors.bin', 'model/weights.bin', 'metrics.jsonl', 'samples/epoch-0002.png']) {
      for (const run of [dir, every3]) expect([rel, await sameAsStraight(run, rel)]).toEqual([rel, true]);
    }
  });

  test('a NaN loss stops the run and keeps the last good checkpoint', async () => {
    const dir = await tempDir('ddpm-nan-');
    // An absurd learning rate overflows the weights on the first update.
    const err = await train({ runDir: dir, config: config({ lr: 1e38, saveEvery: 1 }), data, quiet: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    const step = (err as NonFiniteLossError).step;
    expect(await findLatestCheckpoint(dir)).toBe(path.join(dir, 'checkpoints', `step-${String(step - 1).padStart(8, '0')}`));
    await expect(fs.stat(path.join(dir, 'model'))).rejects.toThrow();
  });

  test('an image that cannot be read stops the run naming it, with the steps so far checkpointed; mended, the run resumes to the same bytes', async () => {
    const fixture = await makeDigitsFixture();
    const broken = await openDigits(fixture, 'train', { size: 12 });
    // an image of step 5's batch (epoch 1 reads each image first): steps 1-4 are trained, and
    // only step 3 is checkpointed by then (saveEvery 3)
    const file = broken.files[epochOrder(config().seed, 0, broken.length)[4 * 8] as number] as string;
    const good = await fs.readFile(file);
    await fs.writeFile(file, good.subarray(0, 20));
    const dir = await tempDir('ddpm-unreadable-');
    const err = await train({ runDir: dir, config: config(), data: broken, quiet: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputsFailedError);
    const kept = path.join(dir, 'checkpoints', 'step-00000004');
    expect((err as Error).message).toContain(`${file}: not a readable image`);
    expect((err as Error).message).toContain(`stopped after step 4; checkpoint ${kept}; mend the data, then continue with the same command and --resume`);
    expect(await findLatestCheckpoint(dir)).toBe(kept);
    await fs.writeFile(file, good);
    const resumed = await train({ runDir: dir, config: config(), data: await openDigits(fixture, 'train', { size: 12 }), quiet: true, resume: true });
    expect(resumed.losses).toEqual(straight.losses);
    for (const rel of ['checkpoints/step-00000008/tensors.bin', 'model/weights.bin', 'metrics.jsonl']) {
      expect([rel, await sameAsStraight(dir, rel)]).toEqual([rel, true]);
    }
  });

  test('refuses to overwrite a run without --resume, and to resume with other settings', async () => {
    await expect(train({ runDir: straightDir, config: config(), data, quiet: true })).rejects.toThrow(/already holds checkpoints \(step-00000008\): pass --resume/);
    await expect(train({ runDir: straightDir, config: config({ lr: 1e-3 }), data, quiet: true, resume: true })).rejects.toThrow('made with other settings (lr: 0.01 -> 0.001)');
    // another width: named as a setting, not as a weight-shape mismatch
    await expect(
      train({ runDir: straightDir, config: config({ unet: { nFeat: 16, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 } }), data, quiet: true, resume: true }),
    ).rejects.toThrow(/made with other settings \(unet\.nFeat: 8 -> 16\).*delete/);
  });

  test('refuses data that does not fit the model', async () => {
    await expect(
      train({ runDir: await tempDir('ddpm-x-'), config: config({ unet: { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 28, groups: 2 } }), data, quiet: true }),
    ).rejects.toThrow('data: images are 12x12x3, the model takes 28x28x3');
  });
});

describe('schedules of a run', () => {
  test('a grid is due every preview.every epochs and after the last, every epoch without the setting', () => {
    const preview = tinyTrainConfig().preview;
    const due = (every: number | undefined, last: number) => Array.from({ length: last }, (_, i) => i + 1).filter((epoch) => gridDue({ ...preview, every }, epoch, epoch === last));
    expect(due(undefined, 4)).toEqual([1, 2, 3, 4]);
    expect(due(1, 4)).toEqual([1, 2, 3, 4]);
    expect(due(10, 97)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 97]);
    expect(due(2, 4)).toEqual([2, 4]);
    expect(due(5, 3)).toEqual([3]);
  });

  test('epoch order is a permutation fixed by (seed, epoch)', () => {
    const a = epochOrder(0, 3, 50);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(epochOrder(0, 3, 50)).toEqual(a);
    expect(epochOrder(0, 4, 50)).not.toEqual(a);
    expect(epochOrder(1, 3, 50)).not.toEqual(a);
  });

  test('learning rate decays linearly per epoch as the reference: lr * (1 - epoch / epochs)', () => {
    expect(learningRateAt(1e-4, 0, 100)).toBe(1e-4);
    expect(learningRateAt(1e-4, 50, 100)).toBeCloseTo(5e-5, 15);
    expect(learningRateAt(1e-4, 99, 100)).toBeCloseTo(1e-6, 15);
  });

  test('a run lasts whole epochs, or a fixed number of steps over ceil(steps / steps-per-epoch) epochs', () => {
    expect(runLength(config({ steps: undefined, epochs: 3 }), 200)).toEqual({ totalSteps: 600, epochs: 3 });
    // The cpu preset's 2,400 steps of batch 32: 12 epochs of the embedded 6,400 images, 2 of the homework's 44,800.
    expect(runLength(config({ steps: 2400 }), 200)).toEqual({ totalSteps: 2400, epochs: 12 });
    expect(runLength(config({ steps: 2400 }), 1400)).toEqual({ totalSteps: 2400, epochs: 2 });
  });
});
