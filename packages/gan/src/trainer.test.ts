import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { bucketMeans, findLatestCheckpoint, loadCheckpoint, readImage, readMetrics, setupEngine } from '@dlcv/core';
import { DEFAULT_DETECTOR, makeTrainConfig, type TrainConfig } from './config';
import { buildDiscriminator, buildGenerator } from './model';
import { loadGeneratorFolder, PRECISE_STATS } from './model-io';
import { preciseStatsShapes } from './sampling';
import { batchPlan, MODEL_DIR, type TrainRunResult } from './trainer';
import type { ChildSpec } from './test-utils/train-child';
import { tempDir, TINY, TS_REGISTER, writeImageFolder } from './test-utils/fixtures';

const execFileAsync = promisify(execFile);

let tmp: string;
let faces: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  tmp = await tempDir('trainer');
  faces = path.join(tmp, 'faces');
  await writeImageFolder(faces, 4);
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

// 4 images, batch 2: 2 steps per epoch, 2 epochs.
const config = (over: Partial<TrainConfig> = {}) => makeTrainConfig({ gan: TINY, datasetSize: 4, batchSize: 2, epochs: 2, data: 'fixture', ...over });

interface ChildOutput {
  result?: TrainRunResult;
  error?: string;
  warnings: string[];
  logs: string[];
  tensors?: number;
}

/** One training run in a child node process (see the root jest.ts-register.js for why). */
async function runTrain(spec: Omit<ChildSpec, 'faces' | 'config'> & { config?: Partial<TrainConfig> }): Promise<ChildOutput> {
  const full: ChildSpec = { faces, ...spec, config: { batchSize: 2, epochs: 2, ...spec.config } };
  const here = path.join(__dirname, 'test-utils');
  const { stdout } = await execFileAsync(process.execPath, ['-r', TS_REGISTER, path.join(here, 'train-child.ts'), JSON.stringify(full)], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as ChildOutput;
}

/** The run's result; a run that failed unexpectedly fails the test with its error. */
function ok(out: ChildOutput | undefined): TrainRunResult {
  if (!out?.result) throw new Error(`training run failed: ${out?.error ?? 'no output'}`);
  return out.result;
}

const latestName = async (runDir: string) => path.basename((await findLatestCheckpoint(runDir)) ?? 'none');

async function weightsOf(runDir: string): Promise<number[][]> {
  const g = buildGenerator(TINY),
    d = buildDiscriminator(TINY);
  await loadCheckpoint(runDir, { models: { g, d } });
  return [...g.getWeights(), ...d.getWeights()].map((w) => Array.from(w.dataSync()));
}

// Every run of this file at once: they are independent child processes.
const dirs = {
  whole: '',
  split: '',
  unreadable: '',
  unreadableHeld: '',
  nan: '',
  mode: '',
  modeStop: '',
  modeStopUnsaved: '',
  dCollapse: '',
  empty: '',
  labelled1: '',
  labelled2: '',
};
const runs: Record<string, Promise<ChildOutput[]>> = {};
beforeAll(() => {
  for (const k of Object.keys(dirs) as (keyof typeof dirs)[]) dirs[k] = path.join(tmp, k);
  // Constructed failures: any diversity counts as collapse from step 2 on; any losses as D collapse.
  const modeDetector = { ...DEFAULT_DETECTOR, diversityRatio: 1e9, warmupSteps: 2 };
  const dDetector = { ...DEFAULT_DETECTOR, window: 2, dLossFloor: 1e9, gLossCeil: -1 };
  const chain = async (...specs: Parameters<typeof runTrain>[0][]) => {
    const out: ChildOutput[] = [];
    for (const spec of specs) out.push(await runTrain(spec));
    return out;
  };
  runs.whole = chain({ runDir: dirs.whole }, { runDir: dirs.whole });
  // The resume changes saveEvery (a setting that may change), then lrG (one that may not).
  runs.split = chain(
    { runDir: dirs.split, stopAtStep: 3 },
    { runDir: dirs.split, resume: true, config: { saveEvery: 7 } },
    { runDir: dirs.split, resume: true, config: { lrG: 1e-3 } },
  );
  // the 4th batch (step 4's) fails to load: steps 1-3 are trained, step 2 (an epoch end) saved
  runs.unreadable = chain({ runDir: dirs.unreadable, failBatch: 4 }, { runDir: dirs.unreadable, resume: true });
  // the same while mode collapse (from step 2) holds checkpoints back: step 1's is the last good one
  runs.unreadableHeld = chain({ runDir: dirs.unreadableHeld, failBatch: 4, config: { saveEvery: 1, diversityEvery: 1, detector: modeDetector } });
  runs.nan = chain({ runDir: dirs.nan, poisonBatch: 2, config: { saveEvery: 1 } });
  runs.mode = chain({ runDir: dirs.mode, config: { saveEvery: 1, diversityEvery: 1, detector: modeDetector } });
  runs.modeStop = chain({ runDir: dirs.modeStop, config: { saveEvery: 1, diversityEvery: 1, detector: modeDetector, stopOnFailure: true } });
  // collapse from step 3 on, which no checkpoint follows (epochs end at steps 2 and 4): step 4 is
  // issued before step 3's failure is read
  runs.modeStopUnsaved = chain({
    runDir: dirs.modeStopUnsaved,
    config: { saveEvery: 100, diversityEvery: 1, detector: { ...modeDetector, warmupSteps: 3 }, stopOnFailure: true },
  });
  runs.dCollapse = chain({ runDir: dirs.dCollapse, config: { epochs: 1, detector: dDetector } });
  runs.empty = chain({ runDir: dirs.empty, resume: true });
  runs.labelled = chain({ runDir: dirs.labelled1, labelled: true, config: { epochs: 1 } }, { runDir: dirs.labelled2, labelled: true, config: { epochs: 3 } });
  // Each test awaits its own chain; a failing chain must not surface as an unhandled rejection.
  for (const p of Object.values(runs)) p.catch(() => undefined);
});

describe('batchPlan', () => {
  it('visits every image once per epoch, in an order fixed by (seed, epoch)', () => {
    // 12 images, batch 4: 3 steps per epoch.
    const c = config({ datasetSize: 12, batchSize: 4 });
    const plan = batchPlan(c);
    const epoch0 = [0, 1, 2].flatMap(plan);
    const epoch1 = [3, 4, 5].flatMap(plan);
    const all = Array.from({ length: 12 }, (_, i) => i);
    expect([...epoch0].sort((a, b) => a - b)).toEqual(all);
    expect([...epoch1].sort((a, b) => a - b)).toEqual(all);
    expect(epoch0).not.toEqual(epoch1);
    // A fresh plan (a resumed run) asked for step 4 first gives the same batch.
    expect(batchPlan(c)(4)).toEqual(plan(4));
    expect([0, 1, 2].flatMap(batchPlan({ ...c, seed: 1 }))).not.toEqual(epoch0);
  });
});

describe("the loss plot's bucketMeans (core's)", () => {
  it('averages consecutive points down to the limit', () => {
    expect(bucketMeans([1, 2, 3, 4, 5], [10, 20, 30, 40, 50], 2)).toEqual({ x: [3, 5], y: [20, 45] });
    expect(bucketMeans([1, 2], [1, 2], 10)).toEqual({ x: [1, 2], y: [1, 2] });
  });
});

describe('a training run', () => {
  it('writes metrics, loss curves, a grid per epoch, their GIF and checkpoints', async () => {
    const [whole] = await runs.whole!;
    expect(ok(whole)).toMatchObject({ step: 4, stoppedBy: 'done', events: [] });
    const { records } = await readMetrics<{ step: number; lossD: number; lossG: number; dReal: number }>(path.join(dirs.whole, 'metrics.jsonl'));
    expect(records.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    for (const r of records) expect(Number.isFinite(r.lossD) && Number.isFinite(r.lossG) && r.dReal > 0 && r.dReal < 1).toBe(true);
    for (const epoch of ['001', '002']) {
      const grid = await readImage(path.join(dirs.whole, 'samples', `epoch-${epoch}.png`));
      expect([grid.width, grid.height]).toEqual([8 * 66 + 2, 8 * 66 + 2]);
    }
    const gif = await fs.readFile(path.join(dirs.whole, 'progress.gif'));
    expect(gif.subarray(0, 6).toString('latin1')).toBe('GIF89a');
    // one frame per epoch: each starts with a graphic control extension (21 f9 04)
    const frames = gif.toString('latin1').split('\x21\xf9\x04').length - 1;
    expect(frames).toBe(2);
    const plot = await readImage(path.join(dirs.whole, 'loss.png'));
    expect(plot.width).toBeGreaterThan(100);
    expect(await latestName(dirs.whole)).toBe('step-00000004');
  });

  it('keeps no tensor of a step: a labelled source (the demo digits) ends with as many tensors after 3 epochs as after 1', async () => {
    const [one, three] = await runs.labelled!;
    expect([ok(one).step, ok(three).step]).toEqual([2, 6]);
    expect(one?.tensors).toBeGreaterThan(0);
    expect(three?.tensors).toBe(one?.tensors);
  });

  it('ends with a model folder: G and its precise statistics as the last checkpoint has them', async () => {
    await runs.whole;
    const model = await loadGeneratorFolder(path.join(dirs.whole, MODEL_DIR));
    expect(model).toMatchObject({ model: 'custom', gan: TINY, step: 4 });
    const g = buildGenerator(TINY);
    const stats = preciseStatsShapes(g).map((shape) => tf.variable(tf.zeros(shape), false));
    await loadCheckpoint(dirs.whole, { models: { g, [PRECISE_STATS]: stats } });
    const values = (ts: readonly tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));
    expect(values(model.g.getWeights())).toEqual(values(g.getWeights()));
    expect(values(model.preciseStats ?? [])).toEqual(values(stats));
  });

  it('resumed from step 3, ends with the same weights and the same files as the uninterrupted run', async () => {
    await runs.whole;
    const [first, second] = await runs.split!;
    expect(ok(first)).toMatchObject({ step: 3, stoppedBy: 'stop-at-step' });
    expect(second?.logs[0]).toMatch(/resumed from .*step-00000003 at step 3$/);
    expect(second?.logs[1]).toBe('continuing at epoch 2 of 2');
    expect(ok(second)).toMatchObject({ step: 4, stoppedBy: 'done' });
    expect(await weightsOf(dirs.split)).toEqual(await weightsOf(dirs.whole));
    for (const file of ['samples/epoch-001.png', 'samples/epoch-002.png', 'progress.gif', 'loss.png', 'metrics.jsonl', 'model/config.json', 'model/weights.bin']) {
      const [a, b] = await Promise.all([fs.readFile(path.join(dirs.whole, file)), fs.readFile(path.join(dirs.split, file))]);
      expect([file, a.equals(b)]).toEqual([file, true]);
    }
  });

  it('refuses to resume with a setting that changes the result, naming it', async () => {
    const [, , conflict] = await runs.split!;
    expect(conflict?.error).toMatch(/step-00000004: the run was made with other settings \(lrG: 0\.005 -> 0\.001\); resume with the same flags/);
    // A fresh run must not mix into a finished one.
    const [, again] = await runs.whole!;
    expect(again?.error).toMatch(/whole already holds checkpoints \(step-00000004\): pass --resume to continue that run/);
  });

  it('--resume without a checkpoint starts a fresh run', async () => {
    const [empty] = await runs.empty!;
    expect(empty?.logs[0]).toMatch(/no checkpoint in .*empty yet: starting a fresh run/);
    expect(ok(empty)).toMatchObject({ step: 4, stoppedBy: 'done' });
    expect(await weightsOf(dirs.empty)).toEqual(await weightsOf(dirs.whole));
  });
});

describe('failures', () => {
  it('a batch that fails to load stops the run naming the file, with step 3 checkpointed; resumed, it ends as the uninterrupted run', async () => {
    await runs.whole;
    const [failed, resumed] = await runs.unreadable!;
    const kept = path.join(dirs.unreadable, 'checkpoints', 'step-00000003');
    expect(failed?.error).toBe(
      `${faces}/0003.png: not a readable image (truncated)\nstopped after step 3; checkpoint ${kept}; mend the data, then continue with the same command and --resume`,
    );
    expect(resumed?.logs[0]).toBe(`resumed from ${kept} at step 3`);
    expect(ok(resumed)).toMatchObject({ step: 4, stoppedBy: 'done' });
    expect(await weightsOf(dirs.unreadable)).toEqual(await weightsOf(dirs.whole));
    for (const file of ['metrics.jsonl', 'model/weights.bin', 'samples/epoch-002.png']) {
      const [a, b] = await Promise.all([fs.readFile(path.join(dirs.whole, file)), fs.readFile(path.join(dirs.unreadable, file))]);
      expect([file, a.equals(b)]).toEqual([file, true]);
    }
  });

  it('a batch that fails to load while checkpoints are held back names the last good one', async () => {
    const [failed] = await runs.unreadableHeld!;
    const lastGood = path.join(dirs.unreadableHeld, 'checkpoints', 'step-00000001');
    expect(failed?.error).toMatch(new RegExp(`not a readable image \\(truncated\\)\\nstopped after step 3; checkpoint ${lastGood}; mend the data`));
    expect(await latestName(dirs.unreadableHeld)).toBe('step-00000001');
  });

  it('a NaN loss stops the run and keeps the last good checkpoint', async () => {
    const [nan] = await runs.nan!;
    expect(nan?.error).toMatch(/D loss became NaN at step 2: training stopped; the last good checkpoint is kept/);
    expect(await latestName(dirs.nan)).toBe('step-00000001');
  });

  it('mode collapse: warns with the step, holds checkpoints back, and stops with --stop-on-failure', async () => {
    const [mode] = await runs.mode!;
    expect(ok(mode).events.map((e) => [e.kind, e.step, e.started])).toEqual([['mode-collapse', 2, true]]);
    expect(mode?.warnings[0]).toMatch(/^mode collapse at step 2: .* last good checkpoint: .*step-00000001$/);
    expect(mode?.warnings[1]).toMatch(/checkpoints held back while mode-collapse lasts; last good checkpoint: .*step-00000001/);
    expect(await latestName(dirs.mode)).toBe('step-00000001');
    expect(path.basename(mode?.result?.lastCheckpoint ?? '')).toBe('step-00000001');
    const { records } = await readMetrics<{ event?: string; step: number }>(path.join(dirs.mode, 'metrics.jsonl'));
    expect(records.filter((r) => r.event).map((r) => [r.event, r.step])).toEqual([['mode-collapse', 2]]);

    const [stopped] = await runs.modeStop!;
    expect(ok(stopped)).toMatchObject({ step: 2, stoppedBy: 'failure' });
    // Stopped between checkpoints: the run ends at the failing step, the step issued after it is
    // neither logged nor saved.
    const [unsaved] = await runs.modeStopUnsaved!;
    expect(ok(unsaved)).toMatchObject({ step: 3, stoppedBy: 'failure' });
    const logged = await readMetrics<{ step: number; lossD?: number }>(path.join(dirs.modeStopUnsaved, 'metrics.jsonl'));
    expect(logged.records.filter((r) => r.lossD !== undefined).map((r) => r.step)).toEqual([1, 2, 3]);
    expect(await latestName(dirs.modeStopUnsaved)).toBe('step-00000002');
  });

  it('discriminator collapse is detected from the losses of the run', async () => {
    const [run] = await runs.dCollapse!;
    expect(ok(run).events.map((e) => [e.kind, e.step, e.started])).toEqual([['discriminator-collapse', 2, true]]);
    // Held back from step 2 (the first save, at the epoch end) on: no checkpoint was written.
    expect(run?.result?.lastCheckpoint).toBeUndefined();
    expect(await latestName(dirs.dCollapse)).toBe('none');
    // Nor the model folder, written only beside an epoch-end checkpoint.
    await expect(fs.access(path.join(dirs.dCollapse, MODEL_DIR))).rejects.toThrow(/ENOENT/);
  });
});
