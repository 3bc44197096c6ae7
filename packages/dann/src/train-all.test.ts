import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setupEngine } from '@dlcv/core';
import { makeDigitsRoot, tinyConfig } from './test-utils/fixtures';
import { trainAll } from './train-all';

let root: string;

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  root = await makeDigitsRoot();
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('trainAll', () => {
  it('trains the 5 distinct runs once, writes the tables, and reuses finished runs', async () => {
    const out = path.join(root, 'runs');
    const logs: string[] = [];
    const opts = { config: tinyConfig({ epochs: 1 }), out, data: { root }, command: 'test', log: (m: string) => void logs.push(m), quiet: true };
    const first = await trainAll(opts);
    expect(first.results.map((r) => r.name)).toEqual(['mnistm-only', 'svhn-only', 'usps-only', 'mnistm-to-svhn-dann', 'mnistm-to-usps-dann']);
    // the same run is the lower bound of both scenarios and a row of the matrix
    const mnistm = first.results[0]?.accuracy;
    expect(first.tables.table.lowerBound).toEqual([mnistm?.mnistm, mnistm?.svhn, mnistm?.usps]);
    expect(first.tables.matrix.mnistm).toEqual(mnistm);
    expect(first.tables.table.dann[1]).toBe(first.results[3]?.accuracy.svhn);
    // the fourth row: the source model with target BatchNorm statistics, one accuracy per scenario
    expect(first.tables.table.sourceBn[0]).toBeNull();
    for (const v of first.tables.table.sourceBn.slice(1)) expect(v).toBeGreaterThanOrEqual(0);
    expect(logs.filter((l) => l.includes('BatchNorm statistics'))).toHaveLength(2);
    const md = await fs.readFile(path.join(out, 'table.md'), 'utf8');
    expect(md).toBe(first.markdown);
    const json = JSON.parse(await fs.readFile(path.join(out, 'table.json'), 'utf8')) as { table: unknown; runs: unknown[] };
    expect(json.table).toEqual(first.tables.table);
    expect(json.runs).toHaveLength(5);

    logs.length = 0;
    const second = await trainAll(opts);
    expect(logs.filter((l) => l.includes('done already'))).toHaveLength(5);
    expect(second.markdown).toBe(first.markdown);

    // another checkpoint interval still reuses finished runs; a run without its model folder is resumed to write it
    logs.length = 0;
    await fs.rm(path.join(out, 'usps-only', 'model'), { recursive: true });
    const third = await trainAll({ ...opts, config: tinyConfig({ epochs: 1, saveEvery: 7 }) });
    expect(logs.filter((l) => l.includes('done already'))).toHaveLength(4);
    expect(logs.some((l) => l.startsWith('usps-only: resumed from'))).toBe(true);
    await expect(fs.stat(path.join(out, 'usps-only', 'model', 'config.json'))).resolves.toBeTruthy();
    expect(third.markdown).toBe(first.markdown);
  });
});
