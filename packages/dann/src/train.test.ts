import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { NonFiniteLossError, readMetrics, setupEngine } from '@dlcv/core';
import { makeDigitsRoot, tinyConfig } from './test-utils/fixtures';
import { epochOrder, readResult, targetIndices, trainRun, type TrainOptions } from './train';

let root: string;
let runs: string;
const quiet = { log: () => undefined, quiet: true };

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  root = await makeDigitsRoot();
  runs = path.join(root, 'runs');
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const dannRun = (dir: string, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  spec: { labelled: 'mnistm', unlabelled: 'usps' },
  config: tinyConfig(),
  runDir: path.join(runs, dir),
  data: { root },
  evalOn: ['usps', 'mnistm'],
  ...quiet,
  ...extra,
});

const bestWeights = async (runDir: string) => {
  const best = path.join(runDir, 'best', 'checkpoints');
  const [step] = (await fs.readdir(best)).filter((n) => n.startsWith('step-'));
  return fs.readFile(path.join(best, step as string, 'tensors.bin'));
};

describe('trainRun', () => {
  it('runs DANN with finite class and domain losses and scores the target val.csv', async () => {
    const result = await trainRun(dannRun('dann-a'));
    // 40 train images, 20% held out -> 32 -> 4 steps of 8 per epoch, 2 epochs
    expect(result.steps).toBe(8);
    expect(result.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    const { records } = await readMetrics<{ step: number; classLoss?: number; domainLoss?: number; lambda?: number }>(path.join(runs, 'dann-a', 'metrics.jsonl'));
    const steps = records.filter((r) => r.classLoss !== undefined);
    expect(steps.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const r of steps) {
      expect(Number.isFinite(r.classLoss)).toBe(true);
      expect(Number.isFinite(r.domainLoss)).toBe(true);
    }
    // lambda follows the schedule over the 8 steps: p = (step - 1) / 8
    expect(steps[0]?.lambda).toBe(0);
    expect(steps[4]?.lambda).toBeCloseTo(2 / (1 + Math.exp(-10 * 0.5)) - 1, 12);
    // 16 val images per domain: accuracies are multiples of 1/16
    for (const d of ['usps', 'mnistm'] as const) {
      const acc = result.accuracy[d] as number;
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(1);
      expect(Number.isInteger(acc * 16)).toBe(true);
    }
    expect(result.selection).toMatch(/held out of training; no usps labels are read/);
    expect(await readResult(path.join(runs, 'dann-a'))).toEqual(result);
    await expect(fs.stat(path.join(runs, 'dann-a', 'loss.png'))).resolves.toBeTruthy();
  });

  it('gives byte-identical weights for the same seed, and other weights for another seed', async () => {
    await trainRun(dannRun('dann-b'));
    expect((await bestWeights(path.join(runs, 'dann-b'))).equals(await bestWeights(path.join(runs, 'dann-a')))).toBe(true);
    await trainRun(dannRun('dann-seed', { config: tinyConfig({ seed: 4 }) }));
    expect((await bestWeights(path.join(runs, 'dann-seed'))).equals(await bestWeights(path.join(runs, 'dann-a')))).toBe(false);
  });

  it('resumes a stopped run to exactly the weights of an uninterrupted one', async () => {
    const dir = path.join(runs, 'dann-resume');
    await expect(trainRun(dannRun('dann-resume', { stopAfterStep: 5, checkpointEvery: 100 }))).rejects.toThrow(/stopped after step 5 of 8/);
    await expect(trainRun(dannRun('dann-resume'))).rejects.toThrow(/already has checkpoints; resume it/);
    const result = await trainRun(dannRun('dann-resume', { resume: true }));
    expect(result.steps).toBe(8);
    expect((await bestWeights(dir)).equals(await bestWeights(path.join(runs, 'dann-a')))).toBe(true);
    const a = await readResult(path.join(runs, 'dann-a'));
    expect(result.accuracy).toEqual(a?.accuracy);
    expect(result.epochs).toEqual(a?.epochs);
  });

  it('refuses to resume with another configuration', async () => {
    await expect(trainRun(dannRun('dann-a', { resume: true, config: tinyConfig({ lr: 0.5 }) }))).rejects.toThrow(/saved with another configuration/);
  });

  it('never reads target labels in dann mode: shuffled target labels give the same weights', async () => {
    const shuffled = await makeDigitsRoot();
    try {
      const csv = path.join(shuffled, 'usps', 'train.csv');
      const lines = (await fs.readFile(csv, 'utf8')).trim().split('\n');
      const relabelled = [lines[0], ...lines.slice(1).map((l) => l.replace(/,(\d)$/, (_, d: string) => `,${(Number(d) + 3) % 10}`))];
      await fs.writeFile(csv, relabelled.join('\n') + '\n');
      await trainRun(dannRun('dann-relabelled', { data: { root: shuffled }, runDir: path.join(shuffled, 'run') }));
      expect((await bestWeights(path.join(shuffled, 'run'))).equals(await bestWeights(path.join(runs, 'dann-a')))).toBe(true);
    } finally {
      await fs.rm(shuffled, { recursive: true, force: true });
    }
  });

  it('trains the labelled-only bounds without a domain loss', async () => {
    const result = await trainRun({ ...dannRun('usps-only'), spec: { labelled: 'usps' }, evalOn: ['usps'] });
    expect(result.name).toBe('usps-only');
    const { records } = await readMetrics<{ domainLoss?: number; classLoss?: number }>(path.join(runs, 'usps-only', 'metrics.jsonl'));
    expect(records.some((r) => r.classLoss !== undefined)).toBe(true);
    expect(records.every((r) => r.domainLoss === undefined)).toBe(true);
    expect(Object.keys(result.accuracy)).toEqual(['usps']);
  });

  it('stops on a non-finite loss and keeps the last good checkpoint', async () => {
    const dir = path.join(runs, 'diverge');
    // An absurd learning rate overflows the weights within a few steps.
    const err = await trainRun(dannRun('diverge', { config: tinyConfig({ lr: 1e30 }), checkpointEvery: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    const failedAt = (err as NonFiniteLossError).step;
    const latest = JSON.parse(await fs.readFile(path.join(dir, 'checkpoints', 'latest.json'), 'utf8')) as { step: number };
    expect(latest.step).toBe(failedAt - 1);
    expect(await readResult(dir)).toBeUndefined();
  });
});

describe('data order', () => {
  it('is a permutation per epoch, different between epochs', () => {
    const a = epochOrder(1, 50, 0), b = epochOrder(1, 50, 1);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(b);
    expect(epochOrder(1, 50, 0)).toEqual(a);
  });
  it('walks the target set in whole shuffled passes, across batch boundaries', () => {
    const n = 10, batch = 4;
    const stream = Array.from({ length: 5 }, (_, s) => targetIndices(7, n, s, batch)).flat();
    expect(stream).toHaveLength(20);
    for (const pass of [stream.slice(0, 10), stream.slice(10, 20)]) expect([...pass].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(stream.slice(0, 10)).not.toEqual(stream.slice(10, 20));
  });
});
