import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { setupEngine } from '@dlcv/core';
import { SCENARIOS } from '../data';
import { makeDigitsRoot, tinyConfig } from '../test-utils/fixtures';
import { trainRun } from '../trainer';
import { sampleIndices, tsneCommand } from './tsne';

let root: string;

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  root = await makeDigitsRoot();
  for (const s of SCENARIOS) {
    await trainRun({
      spec: { labelled: 'mnistm', unlabelled: s },
      config: tinyConfig({ epochs: 1 }),
      runDir: path.join(root, 'runs', `mnistm-to-${s}-dann`),
      data: { root },
      evalOn: [s],
      log: () => undefined,
      quiet: true,
    });
  }
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterAll(async () => {
  jest.restoreAllMocks();
  await fs.rm(root, { recursive: true, force: true });
});

const tsne = (figures: string) =>
  tsneCommand.invoke(['--engine', 'cpu', '--out', path.join(root, 'runs'), '--figures', figures, '--data', root, '--per-domain', '12', '--perplexity', '5', '--iterations', '100']);

describe('tsne command', () => {
  it('writes 4 figures (class and domain, both scenarios) and the coordinates, identically twice', async () => {
    const a = path.join(root, 'tsne-a'),
      b = path.join(root, 'tsne-b');
    await tsne(a);
    await tsne(b);
    const files = (await fs.readdir(a)).sort();
    expect(files).toEqual(['tsne-svhn-class.png', 'tsne-svhn-domain.png', 'tsne-svhn.csv', 'tsne-usps-class.png', 'tsne-usps-domain.png', 'tsne-usps.csv']);
    for (const f of files) expect((await fs.readFile(path.join(a, f))).equals(await fs.readFile(path.join(b, f)))).toBe(true);
    expect((await sharp(path.join(a, 'tsne-usps-class.png')).metadata()).width).toBe(1280);
    const rows = (await fs.readFile(path.join(a, 'tsne-usps.csv'), 'utf8')).trim().split('\n');
    expect(rows[0]).toBe('image,domain,label,x,y');
    // 12 source + 12 target val images (16 per fixture val.csv), labels from val.csv
    expect(rows).toHaveLength(25);
    expect(rows.slice(1).filter((r) => r.includes(',mnistm,'))).toHaveLength(12);
    expect(rows.slice(1).filter((r) => r.includes(',usps,'))).toHaveLength(12);
  });

  it('names the missing model file of a runs folder without the DANN runs', async () => {
    const empty = path.join(root, 'no-runs');
    await expect(tsneCommand.invoke(['--engine', 'cpu', '--out', empty, '--data', root, '--scenario', 'usps'])).rejects.toThrow(
      `${path.join(empty, 'mnistm-to-usps-dann', 'config.json')}: not found (is this a model folder written by \`dlcv-dann train\`?)`,
    );
  });
});

describe('sampleIndices', () => {
  it('draws k distinct sorted indices, all of them when k >= n', () => {
    const s = sampleIndices(100, 10, 1, 300);
    expect(new Set(s).size).toBe(10);
    expect(s).toEqual([...s].sort((x, y) => x - y));
    expect(sampleIndices(5, 10, 1, 300)).toEqual([0, 1, 2, 3, 4]);
  });
});
