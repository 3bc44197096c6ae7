import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Rng, setupEngine, writePng } from '@dlcv/core';
import { holdOut, openDomain, resolveDomain } from './data';
import { fixtureImage, makeDigitsRoot, tinyConfig } from './test-utils/fixtures';
import { trainRun } from './trainer';

let root: string;
const quiet = { log: () => undefined, quiet: true };

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

beforeEach(async () => {
  root = await makeDigitsRoot();
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const dann = () => ({
  spec: { labelled: 'mnistm' as const, unlabelled: 'svhn' as const },
  config: tinyConfig(),
  runDir: path.join(root, 'run'),
  data: { root },
  evalOn: ['svhn' as const],
  ...quiet,
});

describe('bad inputs', () => {
  it('an empty target train.csv stops the run, naming the file', async () => {
    const csv = path.join(root, 'svhn', 'train.csv');
    await fs.writeFile(csv, 'image_name,label\n');
    await expect(trainRun(dann())).rejects.toThrow(`${csv}: no rows after the header`);
  });

  it('an empty target image folder stops the run, naming the missing image', async () => {
    const data = path.join(root, 'svhn', 'data');
    await fs.rm(data, { recursive: true });
    await fs.mkdir(data);
    await expect(trainRun(dann())).rejects.toThrow(/svhn[/\\]train\.csv:2: image "00000\.png" not found/);
  });

  it('a target image of another size stops the run at start, naming the file', async () => {
    const bad = path.join(root, 'svhn', 'data', '00005.png');
    await writePng(bad, fixtureImage('svhn', 5, 10, new Rng(1)));
    await expect(trainRun(dann())).rejects.toThrow(`${bad}: expected 8x8 pixels, got 10x10`);
    // nothing was trained or saved
    await expect(fs.stat(path.join(root, 'run', 'checkpoints'))).rejects.toThrow();
  });

  it('a missing domain folder names the folder and the expected layout', async () => {
    await fs.rm(path.join(root, 'usps'), { recursive: true });
    await expect(resolveDomain('usps', { root })).rejects.toThrow(/usps: digits folder of usps not found \(--data must hold mnistm\/, svhn\/ and usps\//);
  });

  it('hw2_data itself is accepted as --data', async () => {
    const hw2 = path.join(root, 'hw2_data');
    await fs.mkdir(path.join(hw2, 'digits'), { recursive: true });
    for (const d of ['mnistm', 'svhn', 'usps']) await fs.rename(path.join(root, d), path.join(hw2, 'digits', d));
    const f = await resolveDomain('mnistm', { root: hw2 });
    expect(f.dir).toBe(path.join(hw2, 'digits', 'mnistm'));
    expect(f.label).toBe('mnistm');
  });
});

describe('domains are read as grayscale and held out reproducibly', () => {
  it('opens RGB and gray sets as one channel', async () => {
    for (const d of ['mnistm', 'usps'] as const) {
      const ds = await openDomain(await resolveDomain(d, { root }), 'train', 8);
      expect(ds.shape).toEqual({ height: 8, width: 8, channels: 1 });
      expect((await ds.getPixels(0)).length).toBe(64);
    }
  });

  it('splits a held-out part that is disjoint, seeded and sized by the fraction', async () => {
    const ds = await openDomain(await resolveDomain('mnistm', { root }), 'train', 8);
    const a = holdOut(ds, 0.25, 1),
      b = holdOut(ds, 0.25, 1),
      c = holdOut(ds, 0.25, 2);
    expect(a.heldOut.length).toBe(10);
    expect(a.train.length).toBe(30);
    const inTrain = new Set(a.train.files);
    expect(a.heldOut.files.some((f) => inTrain.has(f))).toBe(false);
    expect(b.heldOut.files).toEqual(a.heldOut.files);
    expect(c.heldOut.files).not.toEqual(a.heldOut.files);
    expect(Array.from(a.heldOut.labels ?? [])).toEqual(a.heldOut.files.map((f) => Number(path.basename(f, '.png')) % 10));
  });
});
