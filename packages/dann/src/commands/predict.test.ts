import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readImage, Rng, setupEngine, UsageError, writePng } from '@dlcv/core';
import { loadDannModel } from '../model-io';
import { fixtureImage, makeDigitsRoot, tinyConfig } from '../test-utils/fixtures';
import { trainRun } from '../trainer';
import { predictCommand, scenarioFromPath } from './predict';

let root: string;
let runDir: string;
const cli = (...args: string[]) => predictCommand.invoke(['--engine', 'cpu', ...args]);

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  root = await makeDigitsRoot();
  runDir = path.join(root, 'runs', 'mnistm-to-usps-dann');
  await trainRun({
    spec: { labelled: 'mnistm', unlabelled: 'usps' },
    config: tinyConfig({ epochs: 1 }),
    runDir,
    data: { root },
    evalOn: ['usps'],
    log: () => undefined,
    quiet: true,
  });
});

beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => jest.restoreAllMocks());

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function folderOf(names: string[], size = 8): Promise<string> {
  const dir = await fs.mkdtemp(path.join(root, 'images-'));
  const rng = new Rng(11);
  for (const [i, n] of names.entries()) await writePng(path.join(dir, n), fixtureImage(i % 2 ? 'svhn' : 'usps', i % 10, size, rng));
  return dir;
}

describe('predict (hw2_3.sh contract)', () => {
  it('writes image_name,label with one row per image, sorted by name, labelled as the model labels each image alone', async () => {
    const names = ['b.png', '10.png', 'a.png', '2.png', '00007.png', 'c.png'];
    const dir = await folderOf(names);
    await fs.writeFile(path.join(dir, 'notes.txt'), 'not an image');
    const out = path.join(root, 'pred', 'out.csv');
    await cli(dir, out, '--model', runDir);
    const lines = (await fs.readFile(out, 'utf8')).split('\n');
    expect(lines[0]).toBe('image_name,label');
    expect(lines[lines.length - 1]).toBe('');
    const rows = lines.slice(1, -1).map((l) => l.split(','));
    expect(rows.map((r) => r[0])).toEqual(['00007.png', '10.png', '2.png', 'a.png', 'b.png', 'c.png']);
    // Reference: each image on its own through the loaded model (eval mode: batch-independent).
    const { net } = await loadDannModel(runDir);
    for (const [name, label] of rows) {
      const img = await readImage(path.join(dir, name as string), { channels: 1 });
      const x = tf.tensor4d(
        Float32Array.from(img.data, (v) => (v / 255) * 2 - 1),
        [1, 8, 8, 1],
      );
      const want = tf.tidy(() => tf.argMax(net.classify(net.features(x, { training: false }), { training: false }), -1));
      expect(Number(label)).toBe((await want.data())[0]);
      tf.dispose([x, want]);
    }
    net.dispose();
  });

  it('finds the DANN run of the scenario named in the folder path', async () => {
    const dir = path.join(root, 'hw2_data', 'digits', 'usps', 'data');
    await fs.mkdir(dir, { recursive: true });
    const src = await folderOf(['x.png']);
    await fs.copyFile(path.join(src, 'x.png'), path.join(dir, 'x.png'));
    const out = path.join(root, 'pred', 'usps.csv');
    await cli(dir, out, '--out', path.join(root, 'runs'));
    expect((await fs.readFile(out, 'utf8')).split('\n')[1]).toMatch(/^x\.png,\d$/);
    expect(scenarioFromPath('hw2_data/digits/svhn/data')).toBe('svhn');
    expect(scenarioFromPath('/x/usps/data')).toBe('usps');
    expect(scenarioFromPath('/x/svhn-usps')).toBeUndefined();
  });

  it('rejects an empty folder, naming it', async () => {
    const dir = await folderOf([]);
    await expect(cli(dir, path.join(root, 'pred', 'empty.csv'), '--model', runDir)).rejects.toThrow(`${dir}: no .png or .jpg images in the folder`);
    await expect(fs.stat(path.join(root, 'pred', 'empty.csv'))).rejects.toThrow();
  });

  it('rejects an image of another size, naming the file', async () => {
    const dir = await folderOf(['a.png', 'b.png']);
    await writePng(path.join(dir, 'big.png'), fixtureImage('svhn', 3, 12, new Rng(1)));
    await expect(cli(dir, path.join(root, 'pred', 'sizes.csv'), '--model', runDir)).rejects.toThrow(`${path.join(dir, 'big.png')}: expected 8x8 pixels, got 12x12`);
  });

  it('names every unreadable file in name order, each with the reason a lone read gives', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `${String(i).padStart(2, '0')}.png`);
    const dir = await folderOf(names);
    for (const n of ['21.png', '07.png', '14.png']) {
      const bytes = await fs.readFile(path.join(dir, n));
      await fs.writeFile(path.join(dir, n), bytes.subarray(0, bytes.length - 40));
    }
    const lone = await Promise.all(
      ['07.png', '14.png', '21.png'].map((n) =>
        readImage(path.join(dir, n)).then(
          () => 'read',
          (e: Error) => e.message,
        ),
      ),
    );
    expect(lone[0]).toMatch(/07\.png: corrupt image data \(PNG file ends inside its IDAT chunk: /);
    for (let attempt = 0; attempt < 3; attempt++) {
      const err = (await cli(dir, path.join(root, 'pred', 'corrupt.csv'), '--model', runDir).catch((e: unknown) => e)) as Error;
      expect(err.message).toBe(`3 of 30 images cannot be used (mend or remove them):\n${lone.map((m) => `  ${m}`).join('\n')}`);
    }
  });

  it('explains a missing model and bad arguments', async () => {
    const dir = await folderOf(['a.png']);
    await expect(cli(dir, path.join(root, 'x.csv'), '--model', path.join(root, 'nothing'))).rejects.toThrow(
      `${path.join(root, 'nothing', 'config.json')}: not found (is this a model folder written by \`dlcv-dann train\`?)`,
    );
    await expect(cli(dir)).rejects.toThrow(UsageError);
    await expect(cli(dir)).rejects.toThrow(/expected <image folder> <out\.csv>, got 1 argument/);
    const noScenario = await cli(dir, path.join(root, 'x.csv')).catch((e: unknown) => e);
    expect(noScenario).toBeInstanceOf(UsageError);
    expect((noScenario as Error).message).toMatch(/cannot tell .* whether it is SVHN or USPS/);
    await expect(cli(dir, path.join(root, 'x.csv'), '--runs', path.join(root, 'runs'))).rejects.toThrow(/Unknown option '--runs'/);
  });
});
