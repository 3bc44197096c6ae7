import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { NonFiniteLossError, readMetrics, setupEngine } from '@dlcv/core';
import { makeDigitsRoot, tinyConfig } from './test-utils/fixtures';
import { readResult } from './result';
import { epochOrder, targetIndices, trainRun, type TrainOptions } from './trainer';

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

type FullRun = TrainOptions & { stopAtStep?: undefined };
const dannRun = (dir: string, extra: Partial<FullRun> = {}): FullRun => ({
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
    // the model folder holds the chosen epoch's weights: the bytes of best/'s checkpoint
    expect((await fs.readFile(path.join(runs, 'dann-a', 'model', 'weights.bin'))).equals(await bestWeights(path.join(runs, 'dann-a')))).toBe(true);
  });

  it('gives byte-identical weights for the same seed, and other weights for another seed', async () => {
    await trainRun(dannRun('dann-b'));
    expect((await bestWeights(path.join(runs, 'dann-b'))).equals(await bestWeights(path.join(runs, 'dann-a')))).toBe(true);
    await trainRun(dannRun('dann-seed', { config: tinyConfig({ seed: 4 }) }));
    expect((await bestWeights(path.join(runs, 'dann-seed'))).equals(await bestWeights(path.join(runs, 'dann-a')))).toBe(false);
  });

  it('resumes a stopped run to exactly the weights of an uninterrupted one', async () => {
    const dir = path.join(runs, 'dann-resume');
    // Stopped mid-epoch (4 steps per epoch), with another checkpoint interval: a setting a resumed run may change.
    const stopped = await trainRun({ ...dannRun('dann-resume', { config: tinyConfig({ saveEvery: 100 }) }), stopAtStep: 5 });
    expect(stopped).toEqual({ stopped: true, name: 'mnistm-to-usps-dann', steps: 5, totalSteps: 8 });
    await expect(fs.stat(path.join(dir, 'model'))).rejects.toThrow();
    await expect(trainRun(dannRun('dann-resume'))).rejects.toThrow(/already holds checkpoints \(step-00000005\): pass --resume/);
    const result = await trainRun(dannRun('dann-resume', { resume: true }));
    expect(result.steps).toBe(8);
    expect((await bestWeights(dir)).equals(await bestWeights(path.join(runs, 'dann-a')))).toBe(true);
    const a = await readResult(path.join(runs, 'dann-a'));
    expect(result.accuracy).toEqual(a?.accuracy);
    expect(result.epochs).toEqual(a?.epochs);
    // metrics.jsonl holds each step once, with the uninterrupted run's losses
    const lines = async (d: string) => (await readMetrics<{ step: number; classLoss?: number; domainLoss?: number; lambda?: number }>(path.join(d, 'metrics.jsonl'))).records;
    expect(await lines(dir)).toEqual(await lines(path.join(runs, 'dann-a')));
  });

  it('traces the val accuracies per epoch without changing the run', async () => {
    const result = await trainRun(dannRun('dann-trace', { trace: true }));
    expect((await bestWeights(path.join(runs, 'dann-trace'))).equals(await bestWeights(path.join(runs, 'dann-a')))).toBe(true);
    const plain = await readResult(path.join(runs, 'dann-a'));
    expect(plain?.epochs.every((e) => e.valAccuracy === undefined)).toBe(true);
    for (const e of result.epochs) expect(Object.keys(e.valAccuracy ?? {})).toEqual(['usps', 'mnistm']);
    const withoutTrace = result.epochs.map((e) => ({ epoch: e.epoch, step: e.step, heldOutAccuracy: e.heldOutAccuracy }));
    expect(withoutTrace).toEqual(plain?.epochs);
    // the chosen epoch's trace is the final score: the same weights on the same val.csv
    expect(result.epochs.find((e) => e.epoch === result.bestEpoch)?.valAccuracy).toEqual(result.accuracy);
    const { records } = await readMetrics<{ epoch?: number; heldOutAccuracy?: number; valAccuracy?: Record<string, number> }>(path.join(runs, 'dann-trace', 'metrics.jsonl'));
    expect(records.filter((r) => r.heldOutAccuracy !== undefined).map((r) => r.valAccuracy)).toEqual(result.epochs.map((e) => e.valAccuracy));
  });

  it('refuses to resume with other settings, naming each one', async () => {
    await expect(trainRun(dannRun('dann-a', { resume: true, config: tinyConfig({ lr: 0.5 }) }))).rejects.toThrow(/made with other settings \(lr: 0\.01 -> 0\.5\)/);
    await expect(trainRun(dannRun('dann-a', { resume: true, config: tinyConfig({ seed: 4, net: { ...tinyConfig().net, hidden: 6 } }) }))).rejects.toThrow(
      /made with other settings \(net\.hidden: 4 -> 6; seed: 3 -> 4\)/,
    );
    // the checkpoint interval may change; the finished run is then only scored again
    const before = await readResult(path.join(runs, 'dann-a'));
    const again = await trainRun(dannRun('dann-a', { resume: true, config: tinyConfig({ saveEvery: 3 }) }));
    expect([again.steps, again.accuracy, again.epochs]).toEqual([8, before?.accuracy, before?.epochs]);
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
    const err = await trainRun(dannRun('diverge', { config: tinyConfig({ lr: 1e30, saveEvery: 1 }) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    const failedAt = (err as NonFiniteLossError).step;
    const latest = JSON.parse(await fs.readFile(path.join(dir, 'checkpoints', 'latest.json'), 'utf8')) as { step: number };
    expect(latest.step).toBe(failedAt - 1);
    expect(await readResult(dir)).toBeUndefined();
  });
});

describe('data order', () => {
  it('is a permutation per epoch, different between epochs', () => {
    const a = epochOrder(1, 50, 0),
      b = epochOrder(1, 50, 1);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(b);
    expect(epochOrder(1, 50, 0)).toEqual(a);
  });
  it('walks the target set in whole shuffled passes, across batch boundaries', () => {
    const n = 10,
      batch = 4;
    const stream = Array.from({ length: 5 }, (_, s) => targetIndices(7, n, s, batch)).flat();
    expect(stream).toHaveLength(20);
    for (const pass of [stream.slice(0, 10), stream.slice(10, 20)]) expect([...pass].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(stream.slice(0, 10)).not.toEqual(stream.slice(10, 20));
  });
});
