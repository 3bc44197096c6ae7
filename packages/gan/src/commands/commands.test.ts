import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readImage, Rng, saveCheckpoint, setupEngine, UsageError } from '@dlcv/core';
import { makeTrainConfig } from '../config';
import { createGenerator } from '../model';
import { saveGeneratorFolder } from '../model-io';
import { computePreciseStats, generateToFolder } from '../sampling';
import { fileBytes, SMALL_CALIBRATION, tempDir, TINY } from '../test-utils/fixtures';
import { generateCommand } from './generate';
import { gridCommand } from './grid';

let tmp: string;
let run: string;
let modelDir: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  tmp = await tempDir('commands');
  // One untrained generator, as a run's checkpoint (no stored statistics) and as a model folder.
  const g = createGenerator(TINY, new Rng(2));
  run = path.join(tmp, 'run');
  await saveCheckpoint(run, { models: { g, d: [] }, config: makeTrainConfig({ gan: TINY, datasetSize: 8, batchSize: 4, data: 'test' }), state: { step: 3, epoch: 0 } });
  modelDir = path.join(tmp, 'model');
  const stats = await computePreciseStats(g, TINY.nz, SMALL_CALIBRATION);
  const training = { step: 3, epoch: 0, preset: 'report', seed: 0, data: 'test' };
  await saveGeneratorFolder(
    modelDir,
    g,
    stats.map((t) => tf.variable(t, false)),
    { model: 'custom', gan: TINY, calibration: SMALL_CALIBRATION, training },
  );
  await generateToFolder(g, path.join(tmp, 'direct'), { count: 5, seed: 2, nz: TINY.nz, calibration: SMALL_CALIBRATION });
  await generateToFolder(g, path.join(tmp, 'direct-calibration-3'), { count: 5, seed: 2, nz: TINY.nz, calibration: { ...SMALL_CALIBRATION, seed: 3 } });
});
afterAll(async () => {
  jest.restoreAllMocks();
  await fs.rm(tmp, { recursive: true, force: true });
});

const pngs = async (dir: string) => (await fs.readdir(dir)).sort().map((n) => path.join(dir, n));

describe('generate', () => {
  // --bn running where a checkpoint has no stored statistics: precise ones average 1,000 samples, slow on the cpu backend.
  const fromRun = (out: string) => ['--engine', 'cpu', '--checkpoint', run, '--out', out, '--count', '10', '--batch', '4', '--bn', 'running', '--runtime', 'tfjs'];

  it('twice with one seed writes identical files', async () => {
    await generateCommand.invoke(fromRun(path.join(tmp, 'cli1')));
    await generateCommand.invoke(fromRun(path.join(tmp, 'cli2')));
    const names = (await fs.readdir(path.join(tmp, 'cli1'))).sort();
    expect(names).toEqual(Array.from({ length: 10 }, (_, i) => `000${i}.png`));
    expect(await fileBytes(names.map((n) => path.join(tmp, 'cli1', n)))).toEqual(await fileBytes(names.map((n) => path.join(tmp, 'cli2', n))));
  });

  it('from a model folder: its stored statistics, the images sampling the same generator gives', async () => {
    const out = path.join(tmp, 'from-model');
    await generateCommand.invoke(['--engine', 'cpu', '--model', modelDir, '--out', out, '--count', '5', '--seed', '2', '--runtime', 'tfjs']);
    expect(await fileBytes(await pngs(out))).toEqual(await fileBytes(await pngs(path.join(tmp, 'direct'))));
    // The same weights through --checkpoint, both with the running statistics.
    const a = path.join(tmp, 'running-model');
    const b = path.join(tmp, 'running-run');
    await generateCommand.invoke(['--engine', 'cpu', '--model', modelDir, '--out', a, '--count', '3', '--bn', 'running', '--runtime', 'tfjs']);
    await generateCommand.invoke(['--engine', 'cpu', '--checkpoint', run, '--out', b, '--count', '3', '--bn', 'running', '--runtime', 'tfjs']);
    expect(await fileBytes(await pngs(a))).toEqual(await fileBytes(await pngs(b)));
  });

  it('--calibration-seed recomputes the statistics from that calibration noise (0: the stored ones again)', async () => {
    const [zero, three] = [path.join(tmp, 'calibration-0'), path.join(tmp, 'calibration-3')];
    const model = ['--engine', 'cpu', '--model', modelDir, '--count', '5', '--seed', '2', '--runtime', 'tfjs'];
    const cli = (out: string, seed: string) => [...model, '--out', out, '--calibration-seed', seed];
    await generateCommand.invoke(cli(zero, '0'));
    await generateCommand.invoke(cli(three, '3'));
    const direct = await fileBytes(await pngs(path.join(tmp, 'direct')));
    expect(await fileBytes(await pngs(zero))).toEqual(direct);
    const recomputed = await fileBytes(await pngs(three));
    expect(recomputed).toEqual(await fileBytes(await pngs(path.join(tmp, 'direct-calibration-3'))));
    recomputed.forEach((bytes, i) => expect(bytes.equals(direct[i] as Buffer)).toBe(false));
    await expect(generateCommand.invoke([...cli(path.join(tmp, 'x'), '1'), '--bn', 'running'])).rejects.toThrow(
      new UsageError('--calibration-seed recomputes the precise statistics; --bn running samples without them'),
    );
  });

  it('usage errors: no --out, both --model and --checkpoint, a bad --bn', async () => {
    await expect(generateCommand.invoke(['--engine', 'cpu', '--checkpoint', run])).rejects.toThrow(/--out DIR is required/);
    await expect(generateCommand.invoke(['--engine', 'cpu', '--checkpoint', run, '--model', modelDir, '--out', path.join(tmp, 'x')])).rejects.toThrow(
      new UsageError('give --model or --checkpoint, not both'),
    );
    await expect(generateCommand.invoke(['--engine', 'cpu', '--model', modelDir, '--out', path.join(tmp, 'x'), '--bn', 'batch'])).rejects.toThrow(
      '--bn must be one of precise, running, got "batch"',
    );
  });

  it('names the file of a missing model folder', async () => {
    const none = path.join(tmp, 'no-model');
    await expect(generateCommand.invoke(['--engine', 'cpu', '--model', none, '--out', path.join(tmp, 'x')])).rejects.toThrow(
      `${path.join(none, 'config.json')}: not found (is this a model folder written by \`dlcv-gan train\`?)`,
    );
  });
});

describe('grid', () => {
  it('lays out the first images of a folder, of a checkpoint and of a model folder identically', async () => {
    const fromFolder = path.join(tmp, 'grid-folder.png');
    const fromCkpt = path.join(tmp, 'grid-ckpt.png');
    await gridCommand.invoke(['--engine', 'cpu', '--images', path.join(tmp, 'cli1'), '--count', '6', '--cols', '3', '--out', fromFolder]);
    await gridCommand.invoke(['--engine', 'cpu', '--checkpoint', run, '--count', '6', '--cols', '3', '--bn', 'running', '--out', fromCkpt]);
    const img = await readImage(fromFolder);
    // torchvision layout: 2 px padding around and between 64 px tiles
    expect([img.width, img.height]).toEqual([3 * 66 + 2, 2 * 66 + 2]);
    expect(Buffer.from(img.data).equals(Buffer.from((await readImage(fromCkpt)).data))).toBe(true);
    const fromModel = path.join(tmp, 'grid-model.png');
    const fromImages = path.join(tmp, 'grid-direct.png');
    await gridCommand.invoke(['--engine', 'cpu', '--model', modelDir, '--count', '5', '--seed', '2', '--out', fromModel]);
    await gridCommand.invoke(['--engine', 'cpu', '--images', path.join(tmp, 'direct'), '--count', '5', '--out', fromImages]);
    expect((await fs.readFile(fromModel)).equals(await fs.readFile(fromImages))).toBe(true);
  });

  it('usage errors: too few images, a generator and --images together', async () => {
    await expect(gridCommand.invoke(['--engine', 'cpu', '--images', path.join(tmp, 'cli1'), '--count', '64'])).rejects.toThrow(/has 10 PNG images, the grid needs 64/);
    await expect(gridCommand.invoke(['--engine', 'cpu', '--images', path.join(tmp, 'cli1'), '--model', modelDir])).rejects.toThrow(
      new UsageError('give --model/--checkpoint or --images, not both'),
    );
    await expect(gridCommand.invoke(['--engine', 'cpu', '--count', '0'])).rejects.toThrow('--count must be >= 1, got 0');
  });
});
